package detect

import "testing"

// BenchmarkDetectCorpus parses every corpus file and detects its target.
func BenchmarkDetectCorpus(b *testing.B) {
	cases := loadCorpus(b)
	b.ResetTimer()
	for b.Loop() {
		for _, c := range cases {
			info, err := c.parse()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Target(info); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkTarget picks the target of parsed CPUs of each family.
func BenchmarkTarget(b *testing.B) {
	inputs := []struct{ data, machine string }{
		{x86CPUInfo("GenuineIntel", haswellFlags), "x86_64"},
		{armCPUInfo("0x41", "0xd4f", n2Features), "aarch64"},
		{powerCPUInfo("POWER9 (raw), altivec supported"), "ppc64le"},
	}
	for _, in := range inputs {
		info, err := ParseCPUInfo([]byte(in.data), in.machine)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(in.machine, func(b *testing.B) {
			for b.Loop() {
				if _, err := Target(info); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseCPUInfoLarge parses a 256-processor cpuinfo, of which only
// the first block counts.
func BenchmarkParseCPUInfoLarge(b *testing.B) {
	block := x86CPUInfo("GenuineIntel", haswellFlags)
	var data []byte
	for range 256 {
		data = append(data, block...)
		data = append(data, '\n')
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseCPUInfo(data, "x86_64"); err != nil {
			b.Fatal(err)
		}
	}
}
