package gpu

import (
	"fmt"
	"strconv"
	"strings"
)

// pciBlocks maps NVIDIA PCI device ids to compute capabilities, for
// drivers older than 510, whose nvidia-smi has no compute_cap field. Each
// GPU chip takes blocks of device ids (the pci.ids database names the chip
// of every id); the chip's compute capability is that of its products in
// the CUDA C++ Programming Guide's compute capability table (GK10x 3.0,
// GK110/GK208 3.5, GK210 3.7, GM10x 5.0, GM20x 5.2, GP100 6.0, GP10x 6.1,
// GV100 7.0, TU10x/TU11x 7.5, GA100 8.0, GA10x 8.6). Only chips a driver
// older than 510 runs are listed: Ada, Hopper and Blackwell GPUs need
// R520 or later, whose nvidia-smi has compute_cap.
var pciBlocks = []struct {
	lo, hi uint16
	cc     string
}{
	{0x0fc0, 0x0fff, "3.0"}, // GK107
	{0x1000, 0x103f, "3.5"}, // GK110, GK180 (K20, K40); K80 below
	{0x1180, 0x11ff, "3.0"}, // GK104, GK106
	{0x1280, 0x12bf, "3.5"}, // GK208
	{0x1340, 0x137f, "5.0"}, // GM108
	{0x1380, 0x13bf, "5.0"}, // GM107
	{0x13c0, 0x13ff, "5.2"}, // GM204 (M60)
	{0x1400, 0x143f, "5.2"}, // GM206
	{0x15f0, 0x15ff, "6.0"}, // GP100 (P100)
	{0x1617, 0x1667, "5.2"}, // GM204 mobile
	{0x1740, 0x179f, "5.0"}, // GM107, GM108 mobile
	{0x17c0, 0x17ff, "5.2"}, // GM200 (M40)
	{0x1b00, 0x1b7f, "6.1"}, // GP102 (P40)
	{0x1b80, 0x1bff, "6.1"}, // GP104 (P4)
	{0x1c00, 0x1c7f, "6.1"}, // GP106
	{0x1c80, 0x1cff, "6.1"}, // GP107
	{0x1d00, 0x1d5f, "6.1"}, // GP108
	{0x1d80, 0x1dff, "7.0"}, // GV100 (V100, TITAN V)
	{0x1e00, 0x1e7f, "7.5"}, // TU102
	{0x1e80, 0x1eff, "7.5"}, // TU104 (T4)
	{0x1f00, 0x1f7f, "7.5"}, // TU106
	{0x1f80, 0x1fff, "7.5"}, // TU117
	{0x20b0, 0x20ff, "8.0"}, // GA100 (A100, A30)
	{0x2180, 0x21ff, "7.5"}, // TU116
	{0x2200, 0x223f, "8.6"}, // GA102 (A10, A40, RTX 3090)
	{0x2400, 0x247f, "8.6"}, // GA103
	{0x2480, 0x24ff, "8.6"}, // GA104
	{0x2500, 0x257f, "8.6"}, // GA106
	{0x2580, 0x25ff, "8.6"}, // GA107 (A2, A16)
}

// pciExceptions are single ids whose chip differs from their block's.
var pciExceptions = map[uint16]string{
	0x102d: "3.7", // GK210, Tesla K80
}

// ComputeCapabilityForPCI returns the compute capability of the NVIDIA GPU
// with PCI device id dev, or "" when the id is not one of a chip that
// drivers older than 510 run.
func ComputeCapabilityForPCI(dev uint16) string {
	if cc, ok := pciExceptions[dev]; ok {
		return cc
	}
	for _, b := range pciBlocks {
		if dev >= b.lo && dev <= b.hi {
			return b.cc
		}
	}
	return ""
}

// parsePCIDeviceID reads nvidia-smi's pci.device_id field, "0x1DB410DE":
// the device id in the upper 16 bits, NVIDIA's vendor id 0x10DE in the
// lower.
func parsePCIDeviceID(s string) (uint16, error) {
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 32)
	if err != nil || !strings.HasPrefix(strings.ToLower(s), "0x") {
		return 0, fmt.Errorf("PCI device id %q: want 0xDDDDVVVV", s)
	}
	if v&0xffff != 0x10de {
		return 0, fmt.Errorf("PCI device id %q: vendor %#04x is not NVIDIA (0x10de)", s, v&0xffff)
	}
	return uint16(v >> 16), nil
}
