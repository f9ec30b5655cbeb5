package queue

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"

	"modbot/internal/stmtcache"
	"modbot/mail"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is modbot's SQLite database and the statements run on it. Its
// methods are safe for concurrent use, except on a batch view (Batch.Store),
// whose statements all run in the batch's one open transaction and which
// belongs to the goroutine that opened the batch.
type Store struct {
	pool *sqlx.DB
	// db runs queries: the pool, or in a batch view (see Batch) the
	// batch's transaction, so that reads see what the batch wrote.
	db    querier
	batch *Batch
	now   func() time.Time
	// path is the database file, "" for an in-memory one; files that
	// belong with the database sit beside it.
	path string
}

// querier is what the pool and a transaction both offer.
type querier interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
	NamedExecContext(ctx context.Context, query string, arg any) (sql.Result, error)
}

// Open opens (creating if needed, mode 0600) the SQLite database at path
// and applies the migrations the binary carries.
func Open(ctx context.Context, path string) (*Store, error) {
	if path != ":memory:" {
		// The database holds commenters' addresses and the audit log:
		// nobody but the daemon's user may read it.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		f.Close()
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	// NORMAL is durable in WAL mode against process crashes; only a
	// power loss can lose the last commits, never corrupt the file.
	q.Add("_pragma", "synchronous(NORMAL)")
	// Every inbound message is a savepoint of its batch's transaction,
	// and a savepoint keeps the pages it changes in a sub-journal. In a
	// temporary file those writes were an eighth of ingest's CPU time; in
	// memory they cost a few MB at most, and nothing in them needs to
	// survive a crash (the WAL does that).
	q.Add("_pragma", "temp_store(MEMORY)")
	// Checkpoints (which fsync the database) every 16 MB of WAL rather
	// than every 4 MB: an inbox backlog is written in far fewer syncs.
	q.Add("_pragma", "wal_autocheckpoint(4000)")
	// Writers take the lock at BEGIN, so two writers wait on
	// busy_timeout instead of failing with SQLITE_BUSY mid-transaction.
	q.Add("_txlock", "immediate")
	q.Add("_time_format", "sqlite")
	db, err := openDB(fileDSN(path, q))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if path == ":memory:" {
		db.SetMaxOpenConns(1)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := migrate(ctx, db.DB); err != nil {
		// Another process opening the same new database may have
		// applied the migration between our version check and our
		// transaction; then a second look finds nothing left to do.
		if err2 := migrate(ctx, db.DB); err2 != nil {
			db.Close()
			return nil, err
		}
	}
	st := newStore(db)
	if path != ":memory:" {
		st.path = path
	}
	return st, nil
}

func newStore(db *sqlx.DB) *Store {
	return &Store{pool: db, db: db, now: func() time.Time { return time.Now().UTC() }}
}

// OpenReadOnly opens an existing database for reading (reports, status,
// tests watching a running daemon): it creates nothing and migrates
// nothing.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	q := url.Values{}
	q.Add("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_time_format", "sqlite")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	db, err := openDB(fileDSN(path, q))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return newStore(db), nil
}

// fileDSN is the driver's "file:" name of path with the query q. The
// path is escaped: a "#" or "?" in a directory name would otherwise end
// the path early and open another file without a word.
func fileDSN(path string, q url.Values) string {
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath(), RawQuery: q.Encode()}
	return u.String()
}

// openDB opens the database with each connection keeping its prepared
// statements: modbot runs the same few dozen statements all day, and
// parsing them anew each time was a quarter of its CPU.
func openDB(dsn string) (*sqlx.DB, error) {
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sqlx.NewDb(sql.OpenDB(stmtcache.New(base, 256)), "sqlite"), nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	applied, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range applied {
		if r.Source != nil && r.Source.Version == addressKeysVersion {
			return rekeyAddresses(ctx, db)
		}
	}
	return nil
}

// addressKeysVersion is the migration that added the address-key columns.
const addressKeysVersion = 15

// rekeyAddresses gives the rows written before the address-key columns
// the key mail.AddressKey gives them. The migration's SQL can only
// lower-case ASCII and cut a "+tag"; a block, bounce mark or unsubscribe
// of c.arol@gmail.com or of an address with a trailing dot would
// otherwise no longer be found by its key. It runs once, right after
// that migration, and writes only the rows whose key changes.
func rekeyAddresses(ctx context.Context, db *sql.DB) error {
	tables := []struct{ table, id, addr, key string }{
		{"recipients", "email", "email", "email_key"},
		{"blocked_senders", "email", "email", "email_key"},
		{"subscriptions", "id", "email", "email_key"},
		{"submissions", "id", "author_email", "author_key"},
		{"outbox", "id", "rcpt_to", "rcpt_key"},
		{"inbound", "id", "from_addr", "from_key"},
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("rekey addresses: %w", err)
	}
	defer tx.Rollback()
	for _, t := range tables {
		type change struct{ id, key string }
		var changes []change
		rows, err := tx.QueryContext(ctx, "SELECT "+t.id+", "+t.addr+", "+t.key+" FROM "+t.table)
		if err != nil {
			return fmt.Errorf("rekey %s: %w", t.table, err)
		}
		for rows.Next() {
			var id, addr, key string
			if err := rows.Scan(&id, &addr, &key); err != nil {
				rows.Close()
				return fmt.Errorf("rekey %s: %w", t.table, err)
			}
			if k := mail.AddressKey(addr); k != key {
				changes = append(changes, change{id, k})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("rekey %s: %w", t.table, err)
		}
		for _, c := range changes {
			if _, err := tx.ExecContext(ctx, "UPDATE "+t.table+" SET "+t.key+" = ? WHERE "+t.id+" = ?", c.key, c.id); err != nil {
				return fmt.Errorf("rekey %s: %w", t.table, err)
			}
		}
	}
	return tx.Commit()
}

// Close closes the database.
func (s *Store) Close() error { return s.pool.Close() }

// DB gives read access for reports and tests.
func (s *Store) DB() *sqlx.DB { return s.pool }

// SetClock replaces the store's clock (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// tx runs f in one transaction and commits it, or rolls back on error
// or panic. In a batch view it is a savepoint of the batch instead: f's
// writes are undone alone, and committed with the batch.
func (s *Store) tx(ctx context.Context, f func(tx *sqlx.Tx) error) error {
	if s.batch != nil {
		return s.savepoint(ctx, f)
	}
	tx, err := s.pool.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
		}
	}()
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	committed = true
	return nil
}

// MailboxState returns where the watcher stopped in mailbox.
func (s *Store) MailboxState(ctx context.Context, mailbox string) (uidValidity, lastUID uint32, err error) {
	err = s.db.QueryRowxContext(ctx,
		`SELECT uid_validity, last_uid FROM mailbox_state WHERE mailbox = ?`, mailbox).Scan(&uidValidity, &lastUID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("mailbox state %s: %w", mailbox, err)
	}
	return uidValidity, lastUID, nil
}

// SetMailboxState records where the watcher stopped in mailbox.
func (s *Store) SetMailboxState(ctx context.Context, mailbox string, uidValidity, lastUID uint32) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO mailbox_state (mailbox, uid_validity, last_uid) VALUES (?, ?, ?)
		ON CONFLICT (mailbox) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid`,
		mailbox, uidValidity, lastUID)
	if err != nil {
		return fmt.Errorf("set mailbox state %s: %w", mailbox, err)
	}
	return nil
}

// Post is an article that takes comments.
type Post struct {
	Slug  string `db:"slug"`
	Title string `db:"title"`
	URL   string `db:"url"`
	Text  string `db:"text"`
}

// SyncPosts makes the posts table match the configuration. Posts that
// left the configuration stay: comments still point at them.
func (s *Store) SyncPosts(ctx context.Context, posts []Post) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error {
		for _, p := range posts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO posts (slug, title, url, text) VALUES (?, ?, ?, ?)
				ON CONFLICT (slug) DO UPDATE SET title = excluded.title, url = excluded.url, text = excluded.text`,
				p.Slug, p.Title, p.URL, p.Text); err != nil {
				return fmt.Errorf("sync post %s: %w", p.Slug, err)
			}
		}
		return nil
	})
}

// getPost returns the post with slug, or nil when there is none.
func getPost(ctx context.Context, q sqlx.QueryerContext, slug string) (*Post, error) {
	var p Post
	err := sqlx.GetContext(ctx, q, &p, `SELECT slug, title, url, text FROM posts WHERE slug = ?`, slug)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("post %s: %w", slug, err)
	}
	return &p, nil
}
