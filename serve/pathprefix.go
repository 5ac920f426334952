package serve

import "strings"

// registryOfPath reads a registry named as a repository's first path
// element: a port's ':' is written '_' there (reg.local_5443 for
// reg.local:5443), as podman's and skopeo's mirror locations must be image
// references (mirrorconfig.PathElement writes them). Anything else is
// returned as it is.
func registryOfPath(elem string) string {
	i := strings.LastIndexByte(elem, '_')
	if i <= 0 || len(elem)-i-1 < 1 || len(elem)-i-1 > 5 {
		return elem
	}
	for _, c := range elem[i+1:] {
		if c < '0' || c > '9' {
			return elem
		}
	}
	return elem[:i] + ":" + elem[i+1:]
}
