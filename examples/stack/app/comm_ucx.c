/* The ucx backend of comm.h. */
#include "comm.h"

const char *comm_name(void) { return "ucx"; }

void comm_allreduce(double *buf, size_t n)
{
    (void)buf;
    (void)n; /* one rank: the local sum is the global one */
}
