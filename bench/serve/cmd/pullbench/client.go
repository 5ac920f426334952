package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// client is the benchmark's HTTP client: keep-alive, enough connections
// for the concurrent phase, no transparent gzip.
var client = &http.Client{Transport: &http.Transport{
	MaxIdleConns: 4096, MaxIdleConnsPerHost: 2048, DisableCompression: true, IdleConnTimeout: time.Minute,
}}

const acceptIndex = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"

// getJSON GETs url into v and returns the body's size.
func getJSON(url, accept string, v any) error {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", accept)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(body, v)
}

// pull fetches repo:tag as a client does: the tag (an index: its haswell
// amd64 entry, or its only amd64 one once tailored), the image manifest,
// then config and layers, 4 at a time. It returns the bytes of blobs.
func pull(base, repo, tag string) (int64, error) {
	var idx v1.IndexManifest
	if err := getJSON(base+"/v2/"+repo+"/manifests/"+tag, acceptIndex, &idx); err != nil {
		return 0, err
	}
	var chosen *v1.Descriptor
	for i, e := range idx.Manifests {
		if e.Platform == nil || e.Platform.Architecture != "amd64" {
			continue
		}
		if chosen == nil || e.Annotations["dev.tailor.cpu.target"] == "haswell" {
			chosen = &idx.Manifests[i]
		}
	}
	if chosen == nil {
		return 0, fmt.Errorf("%s: no amd64 entry", tag)
	}
	var m v1.Manifest
	if err := getJSON(base+"/v2/"+repo+"/manifests/"+chosen.Digest.String(), acceptIndex, &m); err != nil {
		return 0, err
	}
	var g errgroup.Group
	g.SetLimit(4)
	sizes := make([]int64, len(m.Layers)+1)
	for i, d := range append([]v1.Descriptor{m.Config}, m.Layers...) {
		g.Go(func() error {
			resp, err := client.Get(base + "/v2/" + repo + "/blobs/" + d.Digest.String())
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			n, err := io.Copy(io.Discard, resp.Body)
			if err == nil && (resp.StatusCode != http.StatusOK || n != d.Size) {
				err = fmt.Errorf("blob %s: %s, %d of %d bytes", d.Digest, resp.Status, n, d.Size)
			}
			sizes[i] = n
			return err
		})
	}
	err := g.Wait()
	var total int64
	for _, n := range sizes {
		total += n
	}
	return total, err
}

// latencies GETs the manifest of url n times, one after another.
func latencies(url string, n int) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if err := getJSON(url, acceptIndex, nil); err != nil {
			return out, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// concurrent runs clients goroutines that each GET url each times, all
// started together, and returns every latency and the errors.
func concurrent(url string, clients, each int) ([]time.Duration, int, error) {
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var first error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range each {
				t := time.Now()
				err := getJSON(url, acceptIndex, nil)
				d := time.Since(t)
				mu.Lock()
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	return lat, errs, first
}

// pct is the p-th percentile of ds.
func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p / 100 * float64(len(s)-1))
	return s[i]
}
