// Package appendlog is the append-only file that long jobs journal their
// finished work in (mask's images, an embedding store's rows), so that a
// kill loses at most the work in flight. Each record goes out in one write
// at the end of what is there, so a kill leaves whole records or, at worst,
// a torn last one, which the job's reader drops; syncs come in batches,
// after a number of records or a time, whichever is first: a kill -9 loses
// nothing appended (the data is in the kernel), a crash of the machine at
// most the records since the last sync.
package appendlog

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Log appends records to a file; it is safe for concurrent use.
type Log struct {
	mu       sync.Mutex
	f        *os.File
	end      int64
	every    int
	interval time.Duration
	unsynced int
	lastSync time.Time
}

// New appends to f after its first valid bytes (what lies beyond, a torn
// record, is cut off), syncing after every `every` records or once
// interval has passed since the last sync.
func New(f *os.File, valid int64, every int, interval time.Duration) (*Log, error) {
	if err := f.Truncate(valid); err != nil {
		return nil, fmt.Errorf("journal %s: %w", f.Name(), err)
	}
	return &Log{f: f, end: valid, every: every, interval: interval, lastSync: time.Now()}, nil
}

// Append writes b at the end with a single write and returns the offset it
// starts at.
func (l *Log) Append(b []byte) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.f.WriteAt(b, l.end); err != nil {
		return 0, fmt.Errorf("journal %s: %w", l.f.Name(), err)
	}
	at := l.end
	l.end += int64(len(b))
	l.unsynced++
	if l.unsynced >= l.every || time.Since(l.lastSync) >= l.interval {
		return at, l.syncLocked()
	}
	return at, nil
}

// Size is the end of the records written.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.end
}

// Sync makes every record appended durable.
func (l *Log) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.syncLocked()
}

func (l *Log) syncLocked() error {
	l.unsynced, l.lastSync = 0, time.Now()
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", l.f.Name(), err)
	}
	return nil
}

// Close syncs and closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return errors.Join(l.syncLocked(), l.f.Close())
}
