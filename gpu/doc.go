// Package gpu provides detection of the GPUs of the host: NVIDIA GPUs
// through NVML when libnvidia-ml is present, else through nvidia-smi, and
// AMD GPUs through the KFD topology in sysfs.
//
// Each probe is split into a pure parser, table-tested on every host with
// outputs recorded in testdata/ ([ParseNvidiaSMI], [ParseNvidiaSMIBanner],
// [ParseKFD]), and a thin wrapper that reads the system ([Detect]).
//
// A machine without a GPU is not an error: [Detect] returns an empty list and
// a nil error, without starting any process. A broken driver does not make
// host detection fail either: [Detect] returns the GPUs it found together with
// an error that the caller is expected to log, not to treat as fatal.
package gpu
