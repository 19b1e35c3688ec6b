package phonebook

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// The protocols of the request log.
const (
	ProtocolTMS          = "tms"
	ProtocolYealink      = "yealink"
	ProtocolCiscoIPPhone = "cisco-ipphone"
	ProtocolLDAP         = "ldap"
	ProtocolJSON         = "json"
)

// Request is one phonebook request as the log keeps it (migration 0009,
// phonebook_requests; PROTOCOLS.md §1.11).
type Request struct {
	At             time.Time     `json:"at"`
	OrganisationID string        `json:"organisation_id"`
	TokenID        string        `json:"token_id,omitempty"` // empty: none (the bare TMS path)
	Protocol       string        `json:"protocol"`
	Operation      string        `json:"operation"`
	HTTPStatus     int           `json:"http_status"`
	Error          string        `json:"error,omitempty"`
	ClientIP       string        `json:"client_ip"`
	ForwardedFor   string        `json:"forwarded_for,omitempty"`
	SearchString   string        `json:"search_string,omitempty"`
	SearchPath     string        `json:"search_path,omitempty"`
	FolderPath     string        `json:"folder_path,omitempty"`
	MaxResult      int           `json:"max_result,omitempty"`
	StartFrom      string        `json:"start_from,omitempty"`
	ResultCount    int           `json:"result_count"`
	Total          int           `json:"total"`
	Duration       time.Duration `json:"duration"`
	Identification
	UserAgent string `json:"user_agent,omitempty"`
	BindName  string `json:"bind_name,omitempty"`
}

// RequestLogConfig tunes the request log writer.
type RequestLogConfig struct {
	// FlushInterval is the longest a request waits in memory (default 1 s).
	FlushInterval time.Duration
	// BatchSize is how many rows one COPY writes at most (default 1000).
	BatchSize int
	// MaxPending bounds what is kept in memory while the database is away
	// (default 100 000 rows); beyond it the oldest rows are dropped and
	// counted.
	MaxPending int
}

// RequestLog writes the request log in batches, off the request path: Log
// never blocks an answer. Close writes what is pending before it returns.
type RequestLog struct {
	db     *sqlx.DB
	cfg    RequestLogConfig
	logger *slog.Logger

	mu      sync.RWMutex // guards closed against Log sending on a closed channel
	closed  bool
	in      chan Request
	done    chan struct{}
	once    sync.Once
	dropped atomic.Int64
	written atomic.Int64

	// overflow holds what Log could not queue while the writer was busy (a
	// burst, a slow COPY): the log is usage data and keeps every request
	// as long as MaxPending allows. run takes it with the queue.
	overflowMu sync.Mutex
	overflow   []Request

	line []byte // the row write encodes (run's goroutine only)
}

// queueSize is the least number of requests that wait for the writer while
// it writes a batch; beyond it Log drops (and counts) requests.
const queueSize = 8192

// NewRequestLog starts the writer.
func NewRequestLog(db *sqlx.DB, cfg RequestLogConfig, logger *slog.Logger) *RequestLog {
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = time.Second
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 100000
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	l := &RequestLog{db: db, cfg: cfg, logger: logger, in: make(chan Request, max(cfg.BatchSize*4, queueSize)), done: make(chan struct{})}
	go l.run()
	return l
}

// Log queues r. It never blocks on the database: when the queue is full
// (the writer is busy) r waits in an overflow list the writer takes next;
// only beyond MaxPending rows waiting there is r dropped and counted.
func (l *RequestLog) Log(r Request) {
	r.sanitise()
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		l.dropped.Add(1)
		return
	}
	select {
	case l.in <- r:
	default:
		l.overflowMu.Lock()
		if len(l.overflow) < l.cfg.MaxPending {
			l.overflow = append(l.overflow, r)
		} else {
			l.dropped.Add(1)
		}
		l.overflowMu.Unlock()
	}
}

// takeOverflow appends the overflow list to pending and empties it.
func (l *RequestLog) takeOverflow(pending []Request) []Request {
	l.overflowMu.Lock()
	defer l.overflowMu.Unlock()
	if len(l.overflow) == 0 {
		return pending
	}
	pending = append(pending, l.overflow...)
	l.overflow = nil
	return pending
}

// Dropped returns how many requests were not logged (queue full, database
// away for too long, or logged after Close).
func (l *RequestLog) Dropped() int64 { return l.dropped.Load() }

// Written returns how many requests were written.
func (l *RequestLog) Written() int64 { return l.written.Load() }

// Close stops accepting requests, writes the pending ones (giving up after
// 10 s when the database does not take them) and waits. It is idempotent.
func (l *RequestLog) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		close(l.in)
		l.mu.Unlock()
	})
	<-l.done
	return nil
}

func (l *RequestLog) run() {
	defer close(l.done)
	t := time.NewTicker(l.cfg.FlushInterval)
	defer t.Stop()
	var pending []Request
	failing := false
	flush := func(ctx context.Context) {
		base := pending
		for len(pending) > 0 {
			n := min(len(pending), l.cfg.BatchSize)
			err := l.write(ctx, pending[:n])
			if isDataError(err) {
				// A row the database refuses (its organisation was deleted
				// meanwhile): write the batch row by row, dropping those.
				err = nil
				for _, r := range pending[:n] {
					if e := l.write(ctx, []Request{r}); isDataError(e) {
						l.dropped.Add(1)
						l.written.Add(-1)
					} else if e != nil {
						err = e
						break
					}
				}
			}
			if err != nil {
				if !failing {
					l.logger.Error("phonebook: writing the request log failed; keeping the rows in memory", "rows", len(pending), "err", err)
				}
				failing = true
				break
			}
			if failing {
				l.logger.Info("phonebook: request log written again")
			}
			failing = false
			l.written.Add(int64(n))
			pending = pending[n:]
		}
		if over := len(pending) - l.cfg.MaxPending; over > 0 {
			l.dropped.Add(int64(over))
			pending = pending[over:]
		}
		switch {
		case len(pending) > 0:
		case cap(base) <= 4*l.cfg.BatchSize:
			// All written: the next batch fills the same array (a few
			// batches' worth), which keeps no request's text meanwhile.
			clear(base[:cap(base)])
			pending = base[:0]
		default:
			pending = nil // a backlog's: release it
		}
	}
	for {
		select {
		case r, ok := <-l.in:
			if !ok {
				pending = l.takeOverflow(pending)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				flush(ctx)
				cancel()
				if len(pending) > 0 {
					l.dropped.Add(int64(len(pending)))
					l.logger.Error("phonebook: request log rows lost at shutdown", "rows", len(pending))
				}
				return
			}
			pending = l.takeOverflow(append(pending, r))
			if over := len(pending) - l.cfg.MaxPending; over > 0 {
				l.dropped.Add(int64(over))
				pending = pending[over:]
			}
			if len(pending) >= l.cfg.BatchSize && !failing {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				flush(ctx)
				cancel()
			}
		case <-t.C:
			pending = l.takeOverflow(pending)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			flush(ctx)
			cancel()
		}
	}
}

// isDataError reports whether the database refused the data itself (a class
// 22 or 23 error), which retrying does not cure.
func isDataError(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		c := pe.Code.Class()
		return c == "22" || c == "23"
	}
	return false
}

// sanitise makes every text field valid UTF-8 without NUL, which PostgreSQL
// text refuses, and bounds its length.
func (r *Request) sanitise() {
	for _, p := range []*string{&r.Operation, &r.Error, &r.ClientIP, &r.ForwardedFor, &r.SearchString, &r.SearchPath,
		&r.FolderPath, &r.StartFrom, &r.SystemName, &r.MACAddress, &r.IPAddress, &r.IPAddressV6, &r.ProductType,
		&r.ProductID, &r.SWVersion, &r.HWBoard, &r.SerialNumber, &r.UserAgent, &r.BindName} {
		*p = field(strings.ReplaceAll(strings.ToValidUTF8(*p, "\ufffd"), "\x00", ""))
	}
}

// copyRequests is the COPY statement write prepares.
var copyRequests = "COPY phonebook_requests (" + strings.Join(requestColumns, ", ") + ") FROM STDIN"

// requestColumns are phonebook_requests' columns in the order write sends them.
var requestColumns = []string{"at", "organisation_id", "token_id", "protocol", "operation", "http_status", "error",
	"client_ip", "forwarded_for", "reported_ip", "reported_ipv6", "search_string", "search_path", "folder_path",
	"max_result", "start_from", "result_count", "total", "duration_us", "system_name", "mac_address",
	"product_type", "product_id", "sw_version", "hw_board", "serial_number", "user_agent", "bind_name"}

// write inserts rs in one transaction with COPY, each row encoded here in
// COPY's text format (appendRow) and handed to the driver as one line: no
// argument conversion per column, a few allocations per batch rather than
// dozens per row. The writer's CPU is taken from the same cores that
// answer the requests.
func (l *RequestLog) write(ctx context.Context, rs []Request) error {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("phonebook: request log: %w", err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		bt, ok := dc.(driver.ConnBeginTx)
		if !ok {
			return fmt.Errorf("driver %T cannot begin a transaction", dc)
		}
		tx, err := bt.BeginTx(ctx, driver.TxOptions{})
		if err != nil {
			return err
		}
		if err := copyRows(dc.(driver.Conn), rs, &l.line); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		return fmt.Errorf("phonebook: request log: %w", err)
	}
	return nil
}

// copyData is what lib/pq's COPY statement offers beyond driver.Stmt.
type copyData interface {
	CopyData(ctx context.Context, line string) (driver.Result, error)
}

// copyRows sends rs through one COPY statement on dc, in a transaction.
func copyRows(dc driver.Conn, rs []Request, line *[]byte) error {
	st, err := dc.Prepare(copyRequests)
	if err != nil {
		return err
	}
	defer st.Close()
	cd, ok := st.(copyData)
	if !ok {
		return fmt.Errorf("driver statement %T cannot COPY lines", st)
	}
	for i := range rs {
		*line = appendRow((*line)[:0], &rs[i])
		// No cancellable context: lib/pq watches one with a goroutine
		// per call, and CopyData only fills a buffer (sent at 64 KiB).
		// As before, write's context bounds taking the connection and
		// beginning the transaction; lib/pq's COPY itself takes none.
		if _, err := cd.CopyData(context.Background(), string(*line)); err != nil {
			return err
		}
	}
	// Exec without values ends the COPY and reports what the server
	// refused (a row of a deleted organisation, …).
	//lint:ignore SA1019 lib/pq's COPY statement has no ExecContext; Exec(nil) ends it.
	_, err = st.Exec(nil)
	return err
}

// appendRow appends r as a line of COPY's text format, in requestColumns'
// order, without its newline.
func appendRow(b []byte, r *Request) []byte {
	b = r.At.UTC().AppendFormat(b, "2006-01-02 15:04:05.999999-07:00")
	b = copyText(b, r.OrganisationID)
	if r.TokenID == "" {
		b = append(b, "\t\\N"...)
	} else {
		b = copyText(b, r.TokenID)
	}
	b = copyText(b, r.Protocol)
	b = copyText(b, r.Operation)
	b = copyInt(b, int64(r.HTTPStatus))
	b = copyText(b, r.Error)
	b = copyText(b, r.ClientIP)
	b = copyText(b, r.ForwardedFor)
	b = copyText(b, r.IPAddress)
	b = copyText(b, r.IPAddressV6)
	b = copyText(b, r.SearchString)
	b = copyText(b, r.SearchPath)
	b = copyText(b, r.FolderPath)
	b = copyInt(b, int64(r.MaxResult))
	b = copyText(b, r.StartFrom)
	b = copyInt(b, int64(r.ResultCount))
	b = copyInt(b, int64(r.Total))
	b = copyInt(b, r.Duration.Microseconds())
	b = copyText(b, r.SystemName)
	b = copyText(b, r.MACAddress)
	b = copyText(b, r.ProductType)
	b = copyText(b, r.ProductID)
	b = copyText(b, r.SWVersion)
	b = copyText(b, r.HWBoard)
	b = copyText(b, r.SerialNumber)
	b = copyText(b, r.UserAgent)
	b = copyText(b, r.BindName)
	return b
}

// copyText appends a tab and s escaped for COPY's text format: backslash,
// and the tab, newline and carriage return that would end the column or
// the row (sanitise has removed NUL).
func copyText(b []byte, s string) []byte {
	b = append(b, '\t')
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '\\':
			rep = `\\`
		case '\t':
			rep = `\t`
		case '\n':
			rep = `\n`
		case '\r':
			rep = `\r`
		default:
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, rep...)
		last = i + 1
	}
	return append(b, s[last:]...)
}

func copyInt(b []byte, n int64) []byte {
	return strconv.AppendInt(append(b, '\t'), n, 10)
}
