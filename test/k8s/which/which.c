/* which: prints which build of the e2e index this is. tailor build
 * compiles it once per target with -DTAILOR_TARGET=<target> and the
 * target's -march flags (test/k8s/e2e.sh). */
#include <stdio.h>

#ifndef TAILOR_TARGET
#define TAILOR_TARGET unknown
#endif
#define STR2(x) #x
#define STR(x) STR2(x)

int main(void)
{
	/* A loop the compiler vectorises for the target, so each build's
	 * code really differs. */
	static float a[1024], b[1024];
	float sum = 0;
	for (int i = 0; i < 1024; i++) {
		a[i] = (float)i;
		b[i] = 0.5f * (float)i;
	}
	for (int i = 0; i < 1024; i++)
		sum += a[i] * b[i];
	printf("tailor e2e: hello from a pod\n");
	printf("build: %s\n", STR(TAILOR_TARGET));
	printf("checksum: %.0f\n", sum);
	return 0;
}
