/* probe: prints the target it was built for (-DTAILOR_TARGET=<name>). */
#include <stdio.h>

#define STR_(x) #x
#define STR(x) STR_(x)

int main(void) {
	printf("target=%s\n", STR(TAILOR_TARGET));
	return 0;
}
