/* comm: the communication backend the application is linked against, one
 * per fabric (comm_tcp.c, comm_ucx.c, comm_ofi.c). A stand-in for an MPI
 * or UCX build: each names its transport and reduces a buffer the way a
 * one-rank job would (the buffer is already the sum). */
#ifndef COMM_H
#define COMM_H
#include <stddef.h>

const char *comm_name(void);
/* comm_allreduce sums buf over the ranks of the job, in place. */
void comm_allreduce(double *buf, size_t n);

#endif
