// Command pause is the sandbox (pod infrastructure) container of the test
// cluster: registry.k8s.io/pause cannot be pulled here, so test/k8s/e2e.sh
// builds this one. As PID 1 of a pod it holds the pod's namespaces, reaps
// orphaned children, and exits on SIGTERM or SIGINT.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			return
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
