#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
	char buf[256];
	snprintf(buf, sizeof buf, "hello from %s", argv[0]);
	printf("%s %zu\n", buf, strlen(buf));
	return 0;
}
