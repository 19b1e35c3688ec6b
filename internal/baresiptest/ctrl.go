package baresiptest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Command sends one ctrl_tcp command (a netstring of JSON, baresip's
// modules/ctrl_tcp) and returns the data of its reply; a reply with ok=false
// returns ErrCommand. It retries the connection for up to 5 s, since
// ctrl_tcp listens a moment after start. The phone needs Options.Ctrl.
func (p *Phone) Command(cmd, params string) (string, error) {
	if p.Ctrl == "" {
		return "", errors.New("baresiptest: the phone has no ctrl_tcp (Options.Ctrl)")
	}
	var conn net.Conn
	var err error
	for range 50 {
		if conn, err = net.DialTimeout("tcp", p.Ctrl, time.Second); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	req, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": "t1"})
	if _, err := fmt.Fprintf(conn, "%d:%s,", len(req), req); err != nil {
		return "", err
	}
	r := bufio.NewReader(conn)
	for {
		msg, err := readNetstring(r)
		if err != nil {
			return "", err
		}
		var reply struct {
			Response bool   `json:"response"`
			OK       bool   `json:"ok"`
			Token    string `json:"token"`
			Data     string `json:"data"`
		}
		if json.Unmarshal(msg, &reply) == nil && reply.Response && reply.Token == "t1" {
			if !reply.OK {
				return reply.Data, fmt.Errorf("%w: %s: %s", ErrCommand, cmd, reply.Data)
			}
			return reply.Data, nil
		}
	}
}

// readNetstring reads one netstring ("5:hello,").
func readNetstring(r *bufio.Reader) ([]byte, error) {
	s, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(s, ":")))
	if err != nil || n < 0 || n > 1<<20 {
		return nil, fmt.Errorf("baresiptest: bad netstring length %q", s)
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf[:n], nil
}
