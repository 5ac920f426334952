package nfd

import "strings"

// cpuidNames maps NFD's cpu-cpuid flag names (klauspost/cpuid's feature
// names, upper case) to Linux /proc/cpuinfo flag names where they differ
// by more than case. A name not listed is lower-cased.
var cpuidNames = map[string]string{
	// x86-64
	"AESNI":              "aes",
	"AMXBF16":            "amx_bf16",
	"AMXFP16":            "amx_fp16",
	"AMXINT8":            "amx_int8",
	"AMXTILE":            "amx_tile",
	"AVX512BF16":         "avx512_bf16",
	"AVX512BITALG":       "avx512_bitalg",
	"AVX512FP16":         "avx512_fp16",
	"AVX512VBMI2":        "avx512_vbmi2",
	"AVX512VNNI":         "avx512_vnni",
	"AVX512VP2INTERSECT": "avx512_vp2intersect",
	"AVX512VPOPCNTDQ":    "avx512_vpopcntdq",
	"AVXIFMA":            "avx_ifma",
	"AVXNECONVERT":       "avx_ne_convert",
	"AVXVNNI":            "avx_vnni",
	"AVXVNNIINT8":        "avx_vnni_int8",
	"CLMUL":              "pclmulqdq",
	"CMPXCHG8":           "cx8",
	"FMA3":               "fma",
	"HTT":                "ht",
	"LAHF":               "lahf_lm",
	"LZCNT":              "abm",
	"SHA":                "sha_ni",
	"SSE3":               "pni",
	"SSE4":               "sse4_1",
	"SSE42":              "sse4_2",
	"X87":                "fpu",
	// arm64
	"AESARM":   "aes",
	"ARMCPUID": "cpuid",
}

// cpuidVendors maps NFD's cpu-model.vendor_id to the catalog's vendor.
var cpuidVendors = map[string]string{
	"Intel": "GenuineIntel",
	"AMD":   "AuthenticAMD",
	"Hygon": "HygonGenuine",
}

// cpuidFeatures returns the CPU features of NFD's cpu-cpuid labels in Linux
// naming. NFD leaves out by default flags every x86-64 CPU of a decade has
// (SSE4.2, POPCNT, BMI1, ... its attributeBlacklist), so a profile read
// from them alone is a lower bound: it never claims a feature the node
// lacks, and may miss some it has.
func cpuidFeatures(labels map[string]string) []string {
	var out []string
	for k, v := range labels {
		flag, ok := strings.CutPrefix(k, nfdCPUIDPrefix)
		if !ok || v != "true" || flag == "" {
			continue
		}
		if n, ok := cpuidNames[flag]; ok {
			out = append(out, n)
			continue
		}
		out = append(out, strings.ToLower(flag))
	}
	return out
}
