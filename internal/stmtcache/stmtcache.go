// Package stmtcache keeps prepared statements alive across database/sql
// calls, per physical connection.
//
// database/sql hands a driver that implements driver.ExecerContext and
// driver.QueryerContext the SQL text on every call, and modernc.org/sqlite
// then parses and plans it anew (sqlite3_prepare_v2), only to finalize the
// statement when the call ends. For a daemon issuing the same few dozen
// statements over and over that parse dominates the CPU profile. The driver's
// own driver.Stmt already keeps its sqlite3_stmt handle for single-statement
// SQL and resets it after each use, so keeping those driver.Stmt values
// around, keyed by SQL text, removes the parse from every call but the first.
//
// Usage:
//
//	base, err := sqlite.NewConnector(dsn)
//	if err != nil {
//		return err
//	}
//	db := sqlx.NewDb(sql.OpenDB(stmtcache.New(base, 256)), "sqlite")
//
// Concurrency: database/sql serialises every call on one driver connection
// under that connection's lock, and it calls driver.Rows.Next and Close under
// the same lock. Each cache belongs to one connection, so nothing here is ever
// touched by two goroutines at once and the package needs no mutex.
package stmtcache

import (
	"container/list"
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"reflect"
)

// New wraps base so that each connection keeps up to size prepared statements,
// least recently used first out. A size below 1 disables caching, so base is
// returned as is.
//
// Only the SQL passed to ExecContext and QueryContext on the connection (which
// is what DB, Conn and Tx Exec, Query and QueryRow use) goes through the
// cache. Statements prepared explicitly with Prepare are left to database/sql,
// which already keeps and closes those itself.
func New(base driver.Connector, size int) driver.Connector {
	if size < 1 {
		return base
	}
	return &connector{base: base, size: size}
}

type connector struct {
	base driver.Connector
	size int
}

// Connect opens a connection through the base connector. A connection that
// lacks any of the optional interfaces the wrapper forwards comes back
// unwrapped: a wrapper would have to either hide the missing interface, which
// changes how database/sql drives the connection (see innerConn), or claim
// one the driver does not have.
func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	inner, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ic, ok := inner.(innerConn)
	if !ok {
		return inner, nil
	}
	return &conn{
		inner:   ic,
		size:    c.size,
		lru:     list.New(),
		byQuery: make(map[string]*list.Element),
	}, nil
}

// Driver returns the base connector's driver, so (*sql.DB).Driver reports
// the same value with and without the cache.
func (c *connector) Driver() driver.Driver { return c.base.Driver() }

// Close closes the base connector if it is an io.Closer: sql.DB.Close calls
// it on the connector it was opened with, which is this wrapper.
func (c *connector) Close() error {
	if cl, ok := c.base.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// innerConn is every optional interface modernc.org/sqlite's connections
// implement and that database/sql looks for. Hiding one makes database/sql
// fall back to weaker paths: no BeginTx options, lock waits that ignore the
// context, connections discarded after a cancelled transaction, and no
// connection validation (see the doc comment of sqlite.NewConnector).
type innerConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.ConnBeginTx
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// execQueryStmt is what a cached statement must offer: the context-free
// Exec and Query would lose cancellation and lock-wait deadlines.
type execQueryStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// entry is one cached statement.
type entry struct {
	query string
	stmt  execQueryStmt
	// busy is set while a Rows returned by stmt is open: SQLite steps that
	// very sqlite3_stmt as the caller iterates, so running it again would
	// bind into (or reset) a statement in the middle of its result set.
	busy bool
	// evicted marks a busy statement dropped from the cache; the Rows that
	// keeps it busy closes it, since closing it earlier would finalize the
	// statement under the caller's iteration.
	evicted bool
	closed  bool
}

func (e *entry) close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	if err := e.stmt.Close(); err != nil {
		return fmt.Errorf("stmtcache: close cached statement %.80q: %w", e.query, err)
	}
	return nil
}

// conn is a driver connection with a statement cache. See the package
// comment for why it has no mutex.
type conn struct {
	inner innerConn
	size  int
	// lru holds *entry, most recently used at the front.
	lru     *list.List
	byQuery map[string]*list.Element
	// uncacheable is set once the driver hands back a statement without
	// StmtExecContext and StmtQueryContext; its other statements will be
	// the same type, so preparing them ahead of the plain call only doubles
	// the work.
	uncacheable bool
	// evictErr is the first error closing an evicted statement. The call
	// that evicted it is about an unrelated statement and succeeded, so the
	// error is kept for Close instead of failing that call.
	evictErr error
}

// Unwrap returns the driver's own connection; sqlite.Limit and similar
// helpers find the modernc connection through it.
func (c *conn) Unwrap() driver.Conn { return c.inner }

// Prepare implements driver.Conn. Explicitly prepared statements bypass the
// cache: their lifetime is the caller's, managed by database/sql.
func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(context.Background(), query)
}

// PrepareContext implements driver.ConnPrepareContext, bypassing the cache
// for the same reason as Prepare.
func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(ctx, query)
}

// Begin implements driver.Conn; database/sql uses BeginTx instead, and the
// driver's Begin means BeginTx with default options.
func (c *conn) Begin() (driver.Tx, error) {
	return c.inner.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx implements driver.ConnBeginTx. Cached statements need nothing done
// here: SQLite statements are not tied to a transaction.
func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.BeginTx(ctx, opts)
}

// Ping implements driver.Pinger.
func (c *conn) Ping(ctx context.Context) error { return c.inner.Ping(ctx) }

// ResetSession implements driver.SessionResetter.
func (c *conn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }

// IsValid implements driver.Validator.
func (c *conn) IsValid() bool { return c.inner.IsValid() }

// Close closes the cached statements before the connection, so the driver
// closes a connection with no statements outstanding rather than leaving it
// half open until they are finalized. database/sql closes a connection only
// once its Rows are closed, so no statement here is still busy.
func (c *conn) Close() error {
	err := c.evictErr
	for el := c.lru.Front(); el != nil; el = el.Next() {
		if cerr := el.Value.(*entry).close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	c.lru.Init()
	clear(c.byQuery)
	if cerr := c.inner.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// ExecContext implements driver.ExecerContext through a cached statement
// when one is free, otherwise through the driver's own ExecContext.
func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e := c.lookup(ctx, query)
	if e == nil {
		return c.inner.ExecContext(ctx, query, args)
	}
	// The driver resets the statement before returning, whatever the
	// outcome, so it is ready for the next call without further ado.
	return e.stmt.ExecContext(ctx, args)
}

// QueryContext implements driver.QueryerContext through a cached statement
// when one is free, otherwise through the driver's own QueryContext. The
// statement stays busy until the returned Rows is closed.
func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	e := c.lookup(ctx, query)
	if e == nil {
		return c.inner.QueryContext(ctx, query, args)
	}
	r, err := e.stmt.QueryContext(ctx, args)
	if err != nil {
		// The driver has reset the statement on every error path.
		return nil, err
	}
	e.busy = true
	return &rows{Rows: r, e: e}, nil
}

// lookup returns a cached statement for query that is free to run, preparing
// and caching it on a miss. It returns nil when the caller should use the
// driver's plain path instead: the cached statement is busy, or preparing
// failed. On failure the plain path reports the error exactly as the driver
// would without the cache, at the cost of a second parse of a statement
// that is in error anyway.
func (c *conn) lookup(ctx context.Context, query string) *entry {
	if el, ok := c.byQuery[query]; ok {
		e := el.Value.(*entry)
		if e.busy {
			return nil
		}
		c.lru.MoveToFront(el)
		return e
	}
	if c.uncacheable {
		return nil
	}
	s, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	es, ok := s.(execQueryStmt)
	if !ok {
		c.uncacheable = true
		// The statement was never used, so a close error says nothing the
		// plain call that follows will not.
		_ = s.Close()
		return nil
	}
	e := &entry{query: query, stmt: es}
	c.byQuery[query] = c.lru.PushFront(e)
	for c.lru.Len() > c.size {
		c.evict(c.lru.Back())
	}
	return e
}

func (c *conn) evict(el *list.Element) {
	e := c.lru.Remove(el).(*entry)
	delete(c.byQuery, e.query)
	if e.busy {
		e.evicted = true
		return
	}
	if err := e.close(); err != nil && c.evictErr == nil {
		c.evictErr = err
	}
}

// rows marks its statement free again on Close. It implements every optional
// Rows interface database/sql looks for, delegating when the driver's Rows
// has it and otherwise answering what database/sql assumes for a Rows
// without it, so wrapping changes nothing a caller can observe.
type rows struct {
	driver.Rows
	e *entry
}

// Close closes the driver's Rows, which resets the statement, and only then
// releases it for reuse, or closes it if it was evicted meanwhile.
func (r *rows) Close() error {
	err := r.Rows.Close()
	e := r.e
	if e == nil {
		return err
	}
	r.e = nil
	e.busy = false
	if e.evicted {
		if cerr := e.close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

// ColumnTypeDatabaseTypeName implements driver.RowsColumnTypeDatabaseTypeName.
func (r *rows) ColumnTypeDatabaseTypeName(index int) string {
	if p, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return p.ColumnTypeDatabaseTypeName(index)
	}
	return ""
}

// ColumnTypeLength implements driver.RowsColumnTypeLength.
func (r *rows) ColumnTypeLength(index int) (length int64, ok bool) {
	if p, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return p.ColumnTypeLength(index)
	}
	return 0, false
}

// ColumnTypeNullable implements driver.RowsColumnTypeNullable.
func (r *rows) ColumnTypeNullable(index int) (nullable, ok bool) {
	if p, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return p.ColumnTypeNullable(index)
	}
	return false, false
}

// ColumnTypePrecisionScale implements driver.RowsColumnTypePrecisionScale.
func (r *rows) ColumnTypePrecisionScale(index int) (precision, scale int64, ok bool) {
	if p, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return p.ColumnTypePrecisionScale(index)
	}
	return 0, 0, false
}

// ColumnTypeScanType implements driver.RowsColumnTypeScanType.
func (r *rows) ColumnTypeScanType(index int) reflect.Type {
	if p, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return p.ColumnTypeScanType(index)
	}
	return reflect.TypeFor[any]()
}

// HasNextResultSet implements driver.RowsNextResultSet. Reporting false for
// a Rows without it makes database/sql close the Rows at the end of the
// result set, as it does for such a Rows.
func (r *rows) HasNextResultSet() bool {
	if p, ok := r.Rows.(driver.RowsNextResultSet); ok {
		return p.HasNextResultSet()
	}
	return false
}

// NextResultSet implements driver.RowsNextResultSet. io.EOF is the driver
// contract's "no further result set", which database/sql does not report as
// an error.
func (r *rows) NextResultSet() error {
	if p, ok := r.Rows.(driver.RowsNextResultSet); ok {
		return p.NextResultSet()
	}
	return io.EOF
}

var (
	_ driver.Connector = (*connector)(nil)
	_ io.Closer        = (*connector)(nil)
	_ innerConn        = (*conn)(nil)

	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeLength           = (*rows)(nil)
	_ driver.RowsColumnTypeNullable         = (*rows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
	_ driver.RowsNextResultSet              = (*rows)(nil)
)
