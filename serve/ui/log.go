package ui

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DefaultLogSize bounds how many distinct answers a Log keeps.
const DefaultLogSize = 2048

// Answer is what the server handed out for one image and profile: the
// entry it chose, how often, and when last.
type Answer struct {
	Repository, Tag string
	// Profile is the client's profile as the server names it (a spec
	// string, a named profile, "none" for the untailored view).
	Profile string
	// Target is the chosen entry's CPU target ("" untouched).
	Target string
	Entry  v1.Hash
	Count  int64
	Last   time.Time
}

type answerKey struct {
	repo, tag, profile, target string
	entry                      v1.Hash
}

// Log counts the server's answers. It is safe for concurrent use and
// bounded: past its size, the answer seen least recently is dropped.
type Log struct {
	mu  sync.Mutex
	max int
	m   map[answerKey]*Answer
	now func() time.Time
	// file, when set, keeps the answers across restarts (OpenLog);
	// saving is pending while a save is scheduled.
	file   string
	saving bool
	logger *slog.Logger
}

// NewLog returns a Log of at most size answers (DefaultLogSize when size
// is not positive).
func NewLog(size int) *Log {
	if size <= 0 {
		size = DefaultLogSize
	}
	return &Log{max: size, m: map[answerKey]*Answer{}, now: time.Now}
}

// Record counts one answer: repo:tag asked for by profile, answered with
// entry (of CPU target target).
func (l *Log) Record(repo, tag, profile string, entry v1.Hash, target string) {
	if l == nil {
		return
	}
	k := answerKey{repo, tag, profile, target, entry}
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.m[k]
	if !ok {
		if len(l.m) >= l.max {
			l.evict()
		}
		a = &Answer{Repository: repo, Tag: tag, Profile: profile, Target: target, Entry: entry}
		l.m[k] = a
	}
	a.Count++
	a.Last = l.now()
	if l.file != "" && !l.saving {
		l.saving = true
		time.AfterFunc(saveDelay, l.save)
	}
}

// evict drops the answer seen least recently; l.mu is held.
func (l *Log) evict() {
	var oldest answerKey
	var t time.Time
	first := true
	for k, a := range l.m {
		if first || a.Last.Before(t) {
			oldest, t, first = k, a.Last, false
		}
	}
	delete(l.m, oldest)
}

// Answers returns a copy of the answers, most recent first.
func (l *Log) Answers() []Answer {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	out := make([]Answer, 0, len(l.m))
	for _, a := range l.m {
		out = append(out, *a)
	}
	l.mu.Unlock()
	slices.SortFunc(out, func(a, b Answer) int {
		if c := b.Last.Compare(a.Last); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Repository, b.Repository), cmp.Compare(a.Tag, b.Tag), cmp.Compare(a.Profile, b.Profile))
	})
	return out
}

// Images returns the images the Log holds answers for, as repositories
// with their tags, sorted.
func (l *Log) Images() []Repository {
	tags := map[string][]string{}
	for _, a := range l.Answers() {
		if !slices.Contains(tags[a.Repository], a.Tag) {
			tags[a.Repository] = append(tags[a.Repository], a.Tag)
		}
	}
	out := make([]Repository, 0, len(tags))
	for r, ts := range tags {
		slices.Sort(ts)
		out = append(out, Repository{Name: r, Tags: ts})
	}
	slices.SortFunc(out, func(a, b Repository) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// saveDelay is how long after a change a Log with a file writes it: the
// counts of at most that long are lost when the server stops.
const saveDelay = time.Second

// maxLogFile bounds the file OpenLog reads.
const maxLogFile = 8 << 20

// OpenLog returns a Log of at most size answers kept in file across
// restarts: what the file holds is loaded (a missing file is an empty
// log; an unreadable one is reported to logger and replaced), and the
// answers are written back within saveDelay of a change.
func OpenLog(file string, size int, logger *slog.Logger) *Log {
	l := NewLog(size)
	l.file, l.logger = file, logger
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		l.logger.Warn("ui: the answers handed out cannot be kept across restarts", "file", file, "err", err)
	}
	if err := l.load(); err != nil && !os.IsNotExist(err) {
		l.logger.Warn("ui: the answers handed out before could not be read; counting from zero", "file", file, "err", err)
	}
	return l
}

func (l *Log) load() error {
	f, err := os.Open(l.file)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxLogFile+1))
	if err != nil {
		return err
	}
	if len(data) > maxLogFile {
		return fmt.Errorf("more than %d bytes", maxLogFile)
	}
	var as []Answer
	if err := json.Unmarshal(data, &as); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range as {
		if len(l.m) >= l.max {
			break
		}
		a := a
		l.m[answerKey{a.Repository, a.Tag, a.Profile, a.Target, a.Entry}] = &a
	}
	return nil
}

// save writes the answers to the file (a temporary file renamed over it).
func (l *Log) save() {
	l.mu.Lock()
	l.saving = false
	l.mu.Unlock()
	data, err := json.Marshal(l.Answers())
	if err == nil {
		err = writeFileAtomic(l.file, data)
	}
	if err != nil {
		l.logger.Warn("ui: saving the answers handed out", "file", l.file, "err", err)
	}
}

// writeFileAtomic writes path by a rename; its directory must exist
// (OpenLog makes it: a save never recreates a storage removed meanwhile).
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".answers-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
