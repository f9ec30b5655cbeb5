package stmtcache

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// counts records what the cache asks of the driver. database/sql may close
// Rows from its own goroutine, hence the mutex.
type counts struct {
	mu       sync.Mutex
	connects int
	prepares map[string]int
	closes   map[string]int
	// runs counts executions of prepared statements, which only the
	// cache does: the driver's plain path never reaches countingStmt.
	runs map[string]int
}

func (n *counts) ran(q string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.runs[q]
}

func (n *counts) prepared(q string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.prepares[q]
}

func (n *counts) closed(q string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closes[q]
}

func (n *counts) totals() (prepares, closes int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, v := range n.prepares {
		prepares += v
	}
	for _, v := range n.closes {
		closes += v
	}
	return prepares, closes
}

// countingConnector sits between the cache and the sqlite connector and
// counts connections, prepares and statement closes.
type countingConnector struct {
	driver.Connector
	n *counts
	// plainStmts makes prepared statements offer only driver.Stmt, as an
	// old driver's would.
	plainStmts bool
}

func (c *countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	inner, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	c.n.mu.Lock()
	c.n.connects++
	c.n.mu.Unlock()
	return &countingConn{innerConn: inner.(innerConn), n: c.n, plain: c.plainStmts}, nil
}

type countingConn struct {
	innerConn
	n     *counts
	plain bool
}

func (c *countingConn) Unwrap() driver.Conn { return c.innerConn }

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.n.mu.Lock()
	c.n.prepares[query]++
	c.n.mu.Unlock()
	s, err := c.innerConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	cs := &countingStmt{execQueryStmt: s.(execQueryStmt), query: query, n: c.n}
	if c.plain {
		return struct{ driver.Stmt }{cs}, nil
	}
	return cs, nil
}

type countingStmt struct {
	execQueryStmt
	query string
	n     *counts
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.n.mu.Lock()
	s.n.runs[s.query]++
	s.n.mu.Unlock()
	return s.execQueryStmt.ExecContext(ctx, args)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.n.mu.Lock()
	s.n.runs[s.query]++
	s.n.mu.Unlock()
	return s.execQueryStmt.QueryContext(ctx, args)
}

func (s *countingStmt) Close() error {
	s.n.mu.Lock()
	s.n.closes[s.query]++
	s.n.mu.Unlock()
	return s.execQueryStmt.Close()
}

func dsn(t testing.TB) string {
	return "file:" + filepath.Join(t.TempDir(), "test.db") +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)"
}

func baseConnector(t testing.TB) driver.Connector {
	t.Helper()
	base, err := sqlite.NewConnector(dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	return base
}

// openCounted opens a single-connection database through the cache, with a
// counter between the cache and the driver.
func openCounted(t *testing.T, size int) (*sqlx.DB, *counts) {
	t.Helper()
	n := &counts{prepares: map[string]int{}, closes: map[string]int{}, runs: map[string]int{}}
	db := sqlx.NewDb(sql.OpenDB(New(&countingConnector{Connector: baseConnector(t), n: n}, size)), "sqlite")
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	mustExec(t, db, `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INTEGER)`)
	return db, n
}

func mustExec(t *testing.T, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, query string, args ...any) sql.Result {
	t.Helper()
	res, err := db.ExecContext(t.Context(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return res
}

func TestRepeatedStatementsPreparedOnce(t *testing.T) {
	db, n := openCounted(t, 16)
	ctx := t.Context()
	const (
		ins   = `INSERT INTO t (name, n) VALUES (?, ?)`
		get   = `SELECT n FROM t WHERE name = ?`
		count = `SELECT count(*) AS c, coalesce(sum(n), 0) AS s FROM t`
	)
	for i := range 50 {
		res := mustExec(t, db, ins, fmt.Sprintf("row%d", i), i*i)
		if id, err := res.LastInsertId(); err != nil || id != int64(i+1) {
			t.Fatalf("insert %d: LastInsertId = %d, %v", i, id, err)
		}
		if ra, err := res.RowsAffected(); err != nil || ra != 1 {
			t.Fatalf("insert %d: RowsAffected = %d, %v", i, ra, err)
		}
	}
	for i := range 50 {
		var got int
		if err := db.GetContext(ctx, &got, get, fmt.Sprintf("row%d", i)); err != nil {
			t.Fatal(err)
		}
		if got != i*i {
			t.Fatalf("row%d: n = %d, want %d", i, got, i*i)
		}
		var agg struct {
			C int `db:"c"`
			S int `db:"s"`
		}
		if err := db.GetContext(ctx, &agg, count); err != nil {
			t.Fatal(err)
		}
		if agg.C != 50 || agg.S != 40425 {
			t.Fatalf("count = %+v, want {50 40425}", agg)
		}
	}
	// A miss must report the driver's empty result, not a stale row.
	var got int
	if err := db.GetContext(ctx, &got, get, "nope"); !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("missing row: err = %v, want sql.ErrNoRows", err)
	}

	for _, q := range []string{ins, get, count} {
		if p := n.prepared(q); p != 1 {
			t.Errorf("%s: prepared %d times, want 1", q, p)
		}
	}
	if n.connects != 1 {
		t.Errorf("%d connections, want 1", n.connects)
	}
}

// A cached statement that failed at run time must be reset and usable.
func TestRunTimeErrorKeepsStatementUsable(t *testing.T) {
	db, n := openCounted(t, 16)
	const ins = `INSERT INTO t (name, n) VALUES (?, ?)`
	mustExec(t, db, ins, "a", 1)
	if _, err := db.ExecContext(t.Context(), ins, "a", 2); err == nil || !strings.Contains(err.Error(), "UNIQUE constraint failed") {
		t.Fatalf("duplicate insert: err = %v, want UNIQUE constraint failure", err)
	}
	mustExec(t, db, ins, "b", 2)
	var names []string
	if err := db.SelectContext(t.Context(), &names, `SELECT name FROM t ORDER BY name`); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"a", "b"}) {
		t.Fatalf("names = %q, want [a b]", names)
	}
	if p := n.prepared(ins); p != 1 {
		t.Errorf("insert prepared %d times, want 1", p)
	}
}

// queryer is what *sql.Conn and *sql.Tx have in common: both pin one
// connection, which is what makes a second use of a busy statement possible.
type queryer interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}

func collect(t *testing.T, q queryer, query string, args ...any) []int {
	t.Helper()
	rows, err := q.QueryContext(t.Context(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestBusyStatementNotReused(t *testing.T) {
	const sel = `SELECT n FROM t WHERE n >= ? ORDER BY n`
	want := []int{10, 20, 30, 40}

	handles := []struct {
		name string
		open func(*testing.T, *sqlx.DB) queryer
	}{
		{"conn", func(t *testing.T, db *sqlx.DB) queryer {
			c, err := db.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c
		}},
		{"tx", func(t *testing.T, db *sqlx.DB) queryer {
			tx, err := db.BeginTx(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tx.Rollback() })
			return tx
		}},
	}
	inner := []struct {
		name string
		// run uses sel while the outer iteration has it open.
		run func(*testing.T, queryer)
	}{
		{"query", func(t *testing.T, q queryer) {
			if got := collect(t, q, sel, 0); !slices.Equal(got, want) {
				t.Errorf("inner query = %v, want %v", got, want)
			}
		}},
		{"exec", func(t *testing.T, q queryer) {
			// Run through the cached statement, this would step the
			// outer result set to its end and reset it under the outer
			// loop.
			if _, err := q.ExecContext(t.Context(), sel, 0); err != nil {
				t.Errorf("inner exec: %v", err)
			}
		}},
	}
	for _, h := range handles {
		for _, in := range inner {
			t.Run(h.name+"/"+in.name, func(t *testing.T) {
				db, n := openCounted(t, 16)
				for _, v := range want {
					mustExec(t, db, `INSERT INTO t (name, n) VALUES (?, ?)`, fmt.Sprint(v), v)
				}
				q := h.open(t, db)

				rows, err := q.QueryContext(t.Context(), sel, 0)
				if err != nil {
					t.Fatal(err)
				}
				var got []int
				for rows.Next() {
					var v int
					if err := rows.Scan(&v); err != nil {
						t.Fatal(err)
					}
					got = append(got, v)
					in.run(t, q)
					if len(got) > 2*len(want) {
						t.Fatalf("outer iteration runs away: %v", got)
					}
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				if err := rows.Close(); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Errorf("outer query = %v, want %v", got, want)
				}

				// Only the outer query ran the cached statement; the
				// inner ones took the driver's plain path.
				if r := n.ran(sel); r != 1 {
					t.Errorf("cached select ran %d times during the loop, want 1", r)
				}
				// Closing the outer rows frees the cached statement.
				if got := collect(t, q, sel, 25); !slices.Equal(got, want[2:]) {
					t.Errorf("query after close = %v, want %v", got, want[2:])
				}
				if r := n.ran(sel); r != 2 {
					t.Errorf("cached select ran %d times in all, want 2: closing its rows must free it", r)
				}
				if p := n.prepared(sel); p != 1 {
					t.Errorf("select prepared %d times, want 1", p)
				}
			})
		}
	}
}

func TestEviction(t *testing.T) {
	stmts := []string{`SELECT ? + 1`, `SELECT ? + 2`, `SELECT ? + 3`}
	tests := []struct {
		name             string
		seq              []int // indexes into stmts
		prepares, closes int   // while the connection is open
	}{
		{"hot pair", []int{0, 1, 0, 1, 0, 1}, 2, 0},
		{"round robin", []int{0, 1, 2, 0, 1, 2}, 6, 4},
		// FIFO would drop stmt 0 when stmt 2 arrives and prepare it again.
		{"least recently used goes", []int{0, 1, 0, 2, 0}, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, n := openCounted(t, 2)
			for i, s := range tt.seq {
				var got int
				if err := db.GetContext(t.Context(), &got, stmts[s], i*10); err != nil {
					t.Fatal(err)
				}
				if want := i*10 + s + 1; got != want {
					t.Fatalf("step %d: %s = %d, want %d", i, stmts[s], got, want)
				}
			}
			var prepares, closes int
			for _, s := range stmts {
				prepares += n.prepared(s)
				closes += n.closed(s)
			}
			if prepares != tt.prepares || closes != tt.closes {
				t.Errorf("prepares, closes = %d, %d; want %d, %d", prepares, closes, tt.prepares, tt.closes)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if p, c := n.totals(); p != c {
				t.Errorf("after db.Close: %d statements prepared, %d closed", p, c)
			}
		})
	}
}

func TestEvictBusyStatementClosedWithRows(t *testing.T) {
	db, n := openCounted(t, 1)
	for i := range 3 {
		mustExec(t, db, `INSERT INTO t (name, n) VALUES (?, ?)`, fmt.Sprint(i), i)
	}
	c, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	const a, b = `SELECT n FROM t ORDER BY n`, `SELECT count(*) FROM t`
	rows, err := c.QueryContext(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	// c.Close waits for open rows, so a failure must not leave them open.
	defer rows.Close()
	var got []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
		// b pushes a out of the one-slot cache while a is iterating.
		var cnt int
		if err := c.QueryRowContext(t.Context(), b).Scan(&cnt); err != nil || cnt != 3 {
			t.Fatalf("count = %d, %v", cnt, err)
		}
		if cl := n.closed(a); cl != 0 {
			t.Fatalf("busy statement closed %d times under its rows", cl)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("rows = %v, want [0 1 2]", got)
	}
	if cl := n.closed(a); cl != 1 {
		t.Errorf("evicted statement closed %d times after its rows closed, want 1", cl)
	}
}

func TestTransactions(t *testing.T) {
	tests := []struct {
		name   string
		commit bool
		want   int
	}{
		{"rollback", false, 0},
		{"commit", true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, n := openCounted(t, 16)
			const ins = `INSERT INTO t (name, n) VALUES (?, ?)`
			const cnt = `SELECT count(*) FROM t`
			tx, err := db.BeginTxx(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				mustExec(t, tx, ins, fmt.Sprint(i), i)
			}
			var inside int
			if err := tx.GetContext(t.Context(), &inside, cnt); err != nil || inside != 3 {
				t.Fatalf("count inside tx = %d, %v; want 3", inside, err)
			}
			if tt.commit {
				err = tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
			var after int
			if err := db.GetContext(t.Context(), &after, cnt); err != nil || after != tt.want {
				t.Fatalf("count after %s = %d, %v; want %d", tt.name, after, err, tt.want)
			}
			if p := n.prepared(ins); p != 1 {
				t.Errorf("insert prepared %d times, want 1", p)
			}
			if p := n.prepared(cnt); p != 1 {
				t.Errorf("count prepared %d times, want 1", p)
			}
		})
	}
}

func TestSyntaxError(t *testing.T) {
	db, n := openCounted(t, 16)
	const bad = `SELEC n FROM t`
	tests := []struct {
		name string
		run  func() error
	}{
		{"exec", func() error { _, err := db.ExecContext(t.Context(), bad); return err }},
		{"query", func() error {
			rows, err := db.QueryContext(t.Context(), bad)
			if err == nil {
				rows.Close()
			}
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil || !strings.Contains(err.Error(), `near "SELEC": syntax error`) {
				t.Fatalf("err = %v, want the driver's syntax error", err)
			}
			if se := (*sqlite.Error)(nil); !errors.As(err, &se) || se.Code() != sqlite3.SQLITE_ERROR {
				t.Errorf("err = %#v, want a *sqlite.Error with code SQLITE_ERROR", err)
			}
		})
	}
	if p := n.prepared(bad); p != 2 {
		t.Errorf("bad statement prepared %d times, want 2: a failed prepare must not be cached", p)
	}
}

func TestColumnTypesForwarded(t *testing.T) {
	db, n := openCounted(t, 16)
	mustExec(t, db, `INSERT INTO t (name, n) VALUES ('x', 1)`)
	const sel = `SELECT id, name, n FROM t`
	for range 2 {
		rows, err := db.QueryContext(t.Context(), sel)
		if err != nil {
			t.Fatal(err)
		}
		cts, err := rows.ColumnTypes()
		rows.Close()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, ct := range cts {
			names = append(names, ct.DatabaseTypeName())
		}
		if want := []string{"INTEGER", "TEXT", "INTEGER"}; !slices.Equal(names, want) {
			t.Errorf("column types = %q, want %q", names, want)
		}
		if st := cts[1].ScanType(); st == nil || st.Kind().String() != "string" {
			t.Errorf("name scan type = %v, want string", st)
		}
	}
	if p := n.prepared(sel); p != 1 {
		t.Errorf("select prepared %d times, want 1", p)
	}
}

func TestConnInterfacesAndUnwrap(t *testing.T) {
	db := sql.OpenDB(New(baseConnector(t), 4))
	defer db.Close()
	c, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Raw(func(dc any) error {
		if _, ok := dc.(*conn); !ok {
			return fmt.Errorf("driver conn is %T, want the cache's", dc)
		}
		if _, ok := dc.(innerConn); !ok {
			return fmt.Errorf("%T hides an optional interface", dc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Limit(c, sqlite3.SQLITE_LIMIT_LENGTH, -1); err != nil {
		t.Errorf("sqlite.Limit through the cache: %v", err)
	}
	// Non-default options need ConnBeginTx.
	tx, err := c.BeginTx(t.Context(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only BeginTx: %v", err)
	}
	tx.Rollback()
}

type bareConnector struct{ driver.Connector }

func (c bareConnector) Connect(ctx context.Context) (driver.Conn, error) {
	inner, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return struct{ driver.Conn }{inner}, nil
}

func TestConnLackingInterfacesNotWrapped(t *testing.T) {
	base := bareConnector{baseConnector(t)}
	dc, err := New(base, 4).Connect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	if _, ok := dc.(*conn); ok {
		t.Fatal("connection without the optional interfaces was wrapped")
	}
}

func TestStmtLackingInterfacesNotCached(t *testing.T) {
	n := &counts{prepares: map[string]int{}, closes: map[string]int{}, runs: map[string]int{}}
	db := sql.OpenDB(New(&countingConnector{Connector: baseConnector(t), n: n, plainStmts: true}, 4))
	defer db.Close()
	db.SetMaxOpenConns(1)
	for i := range 3 {
		var got int
		if err := db.QueryRowContext(t.Context(), `SELECT ? * 2`, i).Scan(&got); err != nil || got != i*2 {
			t.Fatalf("got %d, %v; want %d", got, err, i*2)
		}
	}
	if p := n.prepared(`SELECT ? * 2`); p != 1 {
		t.Errorf("prepared %d times, want 1: once tried, then left to the driver", p)
	}
	if p, c := n.totals(); p != c {
		t.Errorf("%d statements prepared, %d closed", p, c)
	}
}

func TestSizeBelowOneDisables(t *testing.T) {
	base := baseConnector(t)
	if got := New(base, 0); got != base {
		t.Errorf("New(base, 0) = %T, want base itself", got)
	}
}

func BenchmarkInsert(b *testing.B) {
	const ins = `INSERT INTO m (a, b, c, d, e, f, g, h, i, j, k, l, m, n)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	connectors := []struct {
		name string
		wrap func(driver.Connector) driver.Connector
	}{
		{"cached", func(c driver.Connector) driver.Connector { return New(c, 256) }},
		{"uncached", func(c driver.Connector) driver.Connector { return c }},
	}
	for _, bc := range connectors {
		b.Run(bc.name, func(b *testing.B) {
			db := sqlx.NewDb(sql.OpenDB(bc.wrap(baseConnector(b))), "sqlite")
			defer db.Close()
			db.SetMaxOpenConns(1)
			ctx := b.Context()
			if _, err := db.ExecContext(ctx, `CREATE TABLE m (
				id INTEGER PRIMARY KEY,
				a TEXT, b TEXT, c TEXT, d TEXT, e INTEGER, f INTEGER, g INTEGER,
				h INTEGER, i REAL, j BLOB, k TEXT, l INTEGER, m TEXT, n TEXT)`); err != nil {
				b.Fatal(err)
			}
			blob := []byte("0123456789abcdef")
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if _, err := db.ExecContext(ctx, ins,
					"msg-id", "from@example.org", "to@example.org", "subject", i, i*2, i*3,
					int64(i)<<20, float64(i)/3, blob, "queued", 0, "inbox", "2026-01-01 00:00:00"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
