package detect

// parseX86 reads an x86_64 cpuinfo block: vendor_id, model name, flags.
func parseX86(info *CPUInfo, fields map[string]string) error {
	vendor, err := require(fields, "vendor_id", MachineX86_64)
	if err != nil {
		return err
	}
	flags, err := require(fields, "flags", MachineX86_64)
	if err != nil {
		return err
	}
	fs, err := flagTokens("flags", flags)
	if err != nil {
		return err
	}
	info.Vendor = vendor
	info.Model, _ = lookup(fields, "model name")
	info.setFeatures(fs)
	return nil
}
