#include <stdio.h>
double work(void);
int main(void) { printf("%.3f\n", work()); return 0; }
