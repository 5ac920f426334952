// Package gpu provides detection of the GPUs of the host: NVIDIA GPUs
// through NVML when libnvidia-ml is present, else through nvidia-smi, and
// AMD GPUs through the KFD topology in sysfs.
//
// Each probe is split into a pure parser, table-tested on every host with
// outputs recorded in testdata/ ([ParseNvidiaSMI], [ParseNvidiaSMIBanner],
// [ParseKFD]), and a thin wrapper that reads the system ([Detect]).
//
// A machine without a GPU is not an error: [Detect] returns an empty list and
// a nil error, without starting any process. That includes a machine with
// nvidia-smi but no NVIDIA driver (the CUDA toolkit's packages, CI images):
// where none of the driver's nodes exists (/proc/driver/nvidia/version,
// /dev/nvidiactl, WSL's /dev/dxg) neither NVML nor nvidia-smi is tried, and
// nvidia-smi's exit status 9 ("couldn't communicate with the NVIDIA driver")
// and NVML's DRIVER_NOT_LOADED read as no GPU. The default probe runs once
// per process. Drivers older than 510, whose nvidia-smi has no compute_cap
// field, are asked for PCI device ids ([ComputeCapabilityForPCI]). A broken driver does not make
// host detection fail either: [Detect] returns the GPUs it found together with
// an error that the caller is expected to log, not to treat as fatal.
package gpu
