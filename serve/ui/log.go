package ui

import (
	"cmp"
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
