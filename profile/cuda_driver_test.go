package profile

import "testing"

// TestCUDADriverTable checks every row of the driver table against NVIDIA's
// CUDA Toolkit release notes, table 3 "CUDA Toolkit and Corresponding
// Driver Versions" (Linux x86_64, GA rows), and the R565 drivers' own
// nvidia-smi banner ("CUDA Version: 12.7", driver 565.57.01 release notes).
func TestCUDADriverTable(t *testing.T) {
	for driver, want := range map[string]string{
		"580.65.06": "13.0", "580.95.05": "13.0", "575.51.03": "12.9", "575.57.08": "12.9",
		"570.26": "12.8", "570.124.06": "12.8", "570.86.10": "12.8",
		"565.57.01": "12.7", "565.77": "12.7", "560.35.05": "12.6", "560.28.03": "12.6",
		"555.42.02": "12.5", "550.54.14": "12.4", "550.127.05": "12.4", "545.23.06": "12.3",
		"535.54.03": "12.2", "535.230.02": "12.2", "530.30.02": "12.1", "525.60.13": "12.0", "525.147.05": "12.0",
		"520.61.05": "11.8", "515.43.04": "11.7", "510.39.01": "11.6", "510.108.03": "11.6",
		"495.29.05": "11.5", "470.42.01": "11.4", "470.256.02": "11.4", "465.19.01": "11.3",
		"460.27.03": "11.2", "460.106.00": "11.2", "455.23": "11.1", "450.36.06": "11.0", "450.80.02": "11.0",
		"440.33": "10.2", "440.33.01": "10.2", "418.39": "10.1", "418.226.00": "10.1", "410.48": "10.0",
		"410.47": "", "396.26": "",
	} {
		if got := CUDAForDriver(driver); got != want {
			t.Errorf("CUDAForDriver(%s) = %q, want %q", driver, got, want)
		}
	}
	for cuda, want := range map[string]string{
		"12.4": "550.54.14", "12.4.1": "550.54.14", "11.8": "520.61.05", "13.0": "580.65.06",
		"10.2": "440.33", "12": "525.60.13", "12.7": "", "13.5": "", "8.0": "", "x": "",
	} {
		if got := CUDAReleaseDriver(cuda); got != want {
			t.Errorf("CUDAReleaseDriver(%s) = %q, want %q", cuda, got, want)
		}
	}
}
