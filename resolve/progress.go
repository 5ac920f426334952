package resolve

import (
	"context"
	"io"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// counter counts the bytes of layers read and reports them on a channel.
type counter struct {
	ctx     context.Context
	updates chan<- v1.Update
	mu      sync.Mutex
	total   int64
	done    int64
	sent    int64
}

// step is the least progress worth an update.
const step = 256 << 10

func (p *counter) add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if p.done-p.sent < step && p.done < p.total {
		return
	}
	p.sent = p.done
	p.send(v1.Update{Total: p.total, Complete: min(p.done, p.total)})
}

// send delivers u unless the context ends first; called with mu held so
// updates arrive in order.
func (p *counter) send(u v1.Update) {
	select {
	case p.updates <- u:
	case <-p.ctx.Done():
	}
}

// finish reports completion (layers the destination already held were not
// read) and closes the channel.
func (p *counter) finish(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		p.send(v1.Update{Total: p.total, Complete: p.total})
	}
	close(p.updates)
}

// progressImage is an image whose layer reads are counted.
type progressImage struct {
	v1.Image
	p *counter
}

// Layers wraps the image's layers.
func (i progressImage) Layers() ([]v1.Layer, error) {
	ls, err := i.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for j, l := range ls {
		out[j] = progressLayer{Layer: l, p: i.p}
	}
	return out, nil
}

// LayerByDigest wraps the layer.
func (i progressImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := i.Image.LayerByDigest(h)
	if err != nil {
		return nil, err
	}
	return progressLayer{Layer: l, p: i.p}, nil
}

// progressLayer counts the bytes read from its compressed stream.
type progressLayer struct {
	v1.Layer
	p *counter
}

// Compressed counts what is read.
func (l progressLayer) Compressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	return &countingReader{ReadCloser: rc, p: l.p}, nil
}

type countingReader struct {
	io.ReadCloser
	p *counter
}

func (r *countingReader) Read(b []byte) (int, error) {
	n, err := r.ReadCloser.Read(b)
	if n > 0 {
		r.p.add(int64(n))
	}
	return n, err
}

var (
	_ v1.Image = progressImage{}
	_ v1.Layer = progressLayer{}
)
