package registrytest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// PushBlob uploads size bytes from r to repo on the plain-HTTP registry at
// host in one monolithic upload (POST, then PUT with the digest), as the
// distribution spec describes, streaming r rather than holding it. dg is
// r's digest ("sha256:..."); the registry checks it.
func PushBlob(ctx context.Context, host, repo string, r io.Reader, size int64, dg string) error {
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+host+"/v2/"+repo+"/blobs/uploads/", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(post)
	if err != nil {
		return fmt.Errorf("start blob upload: %w", err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "http") {
		loc = "http://" + host + loc
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	put, err := http.NewRequestWithContext(ctx, http.MethodPut, loc+sep+"digest="+dg, r)
	if err != nil {
		return err
	}
	put.ContentLength = size
	put.Header.Set("Content-Type", "application/octet-stream")
	resp, err = http.DefaultClient.Do(put)
	if err != nil {
		return fmt.Errorf("blob upload: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("blob upload: %s", resp.Status)
	}
	return nil
}
