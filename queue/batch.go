package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Batch is a view of the store in which everything runs in one open
// transaction, so that a run of inbound messages costs one commit instead
// of one each. Each Store.tx inside it is a savepoint: a failing message
// undoes only its own writes. Reads through the view see the batch's
// writes (rate limits and duplicates count messages earlier in the same
// batch). Nothing is durable, or visible to other connections, until
// Commit.
//
// The transaction holds SQLite's write lock from the start, so other
// writers (digests, reports, the outbox, the web's unsubscribe and
// confirmation pages) wait on the busy timeout while a batch is open:
// keep batches short.
type Batch struct {
	view   *Store
	tx     *sqlx.Tx
	broken error // a savepoint could not be undone: the batch must not commit
}

// BeginBatch opens a batch. It must end with Commit, which also rolls it
// back when a savepoint could not be undone.
func (s *Store) BeginBatch(ctx context.Context) (*Batch, error) {
	// Not ctx itself: database/sql rolls a transaction back as soon as
	// its context ends, and a shutdown should still commit what the
	// batch has finished.
	tx, err := s.pool.BeginTxx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return nil, fmt.Errorf("begin batch: %w", err)
	}
	b := &Batch{tx: tx}
	b.view = &Store{pool: s.pool, db: tx, batch: b, now: s.now}
	return b, nil
}

// Store returns the view that runs in the batch.
func (b *Batch) Store() *Store { return b.view }

// Commit makes every savepoint released in the batch durable.
func (b *Batch) Commit() error {
	if b.broken != nil {
		b.tx.Rollback()
		return fmt.Errorf("commit batch: %w", b.broken)
	}
	if err := b.tx.Commit(); err != nil {
		return fmt.Errorf("commit batch: %w", err)
	}
	return nil
}

// savepoint runs f inside the batch as one unit: released when f
// succeeds, rolled back when f fails or panics.
func (s *Store) savepoint(ctx context.Context, f func(tx *sqlx.Tx) error) error {
	tx := s.batch.tx
	if _, err := tx.ExecContext(ctx, `SAVEPOINT msg`); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	released := false
	defer func() {
		if released {
			return
		}
		// Undo even when ctx has ended: the batch goes on to commit.
		bg := context.WithoutCancel(ctx)
		if _, err := tx.ExecContext(bg, `ROLLBACK TO msg`); err != nil {
			s.batch.broken = fmt.Errorf("roll back to savepoint: %w", err)
			return
		}
		if _, err := tx.ExecContext(bg, `RELEASE msg`); err != nil {
			s.batch.broken = fmt.Errorf("release savepoint: %w", err)
		}
	}()
	if err := f(tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `RELEASE msg`); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	released = true
	return nil
}

// batchHold is how long the Ingester keeps a batch open before it commits
// and starts another, so that other writers never wait long.
const batchHold = 100 * time.Millisecond

// ingestBatch is the Ingester's open batch, if any. Only the watcher's
// goroutine calls Handle, BeginBatch and EndBatch (Prepare, on the
// read-ahead goroutine, never touches the batch), so it needs no lock.
type ingestBatch struct {
	on      bool // between BeginBatch and EndBatch
	b       *Batch
	started time.Time
	arrived []string // outcomes to announce once committed
	err     error    // a commit failed: nothing since BeginBatch may be filed
}

// BeginBatch implements mail.Batcher: until EndBatch, outcomes are
// committed together. The transaction opens with the first message that
// needs it.
func (in *Ingester) BeginBatch(ctx context.Context) error {
	in.batch = ingestBatch{on: true}
	return nil
}

// EndBatch implements mail.Batcher: it commits what the batch handled.
// An error means some of those outcomes may be lost, so the watcher must
// file none of them: they are offered again, and the ones that were
// committed get their recorded filing.
func (in *Ingester) EndBatch(ctx context.Context) error {
	err := in.commitBatch()
	if err == nil {
		err = in.batch.err
	}
	in.batch = ingestBatch{}
	return err
}

// st is the store to use now: the open batch's view, or the store.
func (in *Ingester) st() *Store {
	if in.batch.b != nil {
		return in.batch.b.Store()
	}
	return in.Store
}

// batchFor opens the batch's transaction when one is wanted, committing
// the previous one first if it has been open long enough.
func (in *Ingester) batchFor(ctx context.Context) error {
	if !in.batch.on {
		return nil
	}
	if in.batch.err != nil {
		return in.batch.err
	}
	if in.batch.b != nil && time.Since(in.batch.started) > batchHold {
		if err := in.commitBatch(); err != nil {
			return err
		}
	}
	if in.batch.b == nil {
		b, err := in.Store.BeginBatch(ctx)
		if err != nil {
			return err
		}
		in.batch.b, in.batch.started = b, time.Now()
	}
	return nil
}

// commitBatch commits the open transaction, if any, then announces what
// it recorded.
func (in *Ingester) commitBatch() error {
	b := in.batch.b
	if b == nil {
		return nil
	}
	in.batch.b = nil
	if err := b.Commit(); err != nil {
		in.batch.err = err
		in.batch.arrived = nil
		return err
	}
	arrived := in.batch.arrived
	in.batch.arrived = nil
	for _, o := range arrived {
		in.announce(o)
	}
	return nil
}

// arrived announces an outcome now, or when the batch commits.
func (in *Ingester) arrived(outcome string) {
	if in.batch.b != nil {
		in.batch.arrived = append(in.batch.arrived, outcome)
		return
	}
	in.announce(outcome)
}

func (in *Ingester) announce(outcome string) {
	if in.Arrived != nil {
		in.Arrived(outcome)
	}
}
