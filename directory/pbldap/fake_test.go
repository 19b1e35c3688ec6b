package pbldap

import (
	"bytes"
	"context"
	"net"

	"strings"
	"time"

	"github.com/bifrost-video/bifrost/directory"
)

// fakeDir is an in-memory Directory; a nil function field uses the data.
type fakeDir struct {
	folders []directory.Folder
	entries []directory.Entry // sorted by lower-case name, as the store does

	search func(ctx context.Context, orgID string, q directory.Query) (directory.Page, error)
}

func (d *fakeDir) Folders(_ context.Context, orgID string) ([]directory.Folder, error) {
	var out []directory.Folder
	for _, f := range d.folders {
		if f.OrganisationID == orgID {
			out = append(out, f)
		}
	}
	return out, nil
}

func (d *fakeDir) Search(ctx context.Context, orgID string, q directory.Query) (directory.Page, error) {
	if d.search != nil {
		return d.search(ctx, orgID, q)
	}
	var hits []directory.Entry
	for _, e := range d.entries {
		switch {
		case e.OrganisationID != orgID,
			q.PublishedOnly && !e.Published(),
			q.Text != "" && !strings.Contains(strings.ToLower(e.DisplayName), strings.ToLower(q.Text)),
			q.FolderID != nil && (e.FolderID == nil || *e.FolderID != *q.FolderID),
			q.FolderID == nil && q.InRoot && e.FolderID != nil:
			continue
		}
		hits = append(hits, e)
	}
	p := directory.Page{Total: len(hits), Entries: []directory.Entry{}}
	if q.Offset < len(hits) {
		p.Entries = hits[q.Offset:min(len(hits), q.Offset+q.Limit)]
	}
	return p, nil
}

func (d *fakeDir) GetEntry(_ context.Context, orgID, id string) (directory.Entry, error) {
	for _, e := range d.entries {
		if e.OrganisationID == orgID && e.ID == id {
			return e, nil
		}
	}
	return directory.Entry{}, directory.ErrNotFound
}

// smallDir is a fake directory of one organisation "org": folder "Oslo"
// with two people, one person in the root and one unpublished.
func smallDir() *fakeDir {
	oslo := "f-oslo"
	sip := func(v string) []directory.Address { return []directory.Address{{Kind: directory.AddressSIP, Value: v}} }
	return &fakeDir{
		folders: []directory.Folder{{ID: oslo, OrganisationID: "org", Name: "Oslo"}},
		entries: []directory.Entry{
			{ID: "e1", OrganisationID: "org", FolderID: &oslo, Kind: directory.KindPerson, DisplayName: "Anne Berg", Title: "Engineer",
				Addresses: append(sip("anne@x.example"), directory.Address{Kind: directory.AddressH323, Value: "anne.berg"},
					directory.Address{Kind: directory.AddressTel, Label: "phone", Value: "+47 21 99 10 01"},
					directory.Address{Kind: directory.AddressTel, Label: "mobile", Value: "+47 900-10-001"},
					directory.Address{Kind: directory.AddressE164, Value: "4721991001"})},
			{ID: "e2", OrganisationID: "org", FolderID: &oslo, Kind: directory.KindPerson, DisplayName: "Berg, Marius", Addresses: sip("marius@x.example")},
			{ID: "e3", OrganisationID: "org", Kind: directory.KindPerson, DisplayName: "Hanne Øvrebø", Addresses: sip("hanne@x.example")},
			{ID: "e4", OrganisationID: "org", Kind: directory.KindPerson, DisplayName: "No Address"},
		},
	}
}

// acceptToken accepts the password "token" for organisation "org".
var acceptToken = AuthenticatorFunc(func(_ context.Context, _, pw string) (Scope, error) {
	if pw == "token" {
		return Scope{OrganisationID: "org"}, nil
	}
	return Scope{}, ErrInvalidCredentials
})

// bytesConn is a net.Conn that reads a fixed input and discards writes.
type bytesConn struct {
	r   *bytes.Reader
	out bytes.Buffer
}

func (c *bytesConn) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c *bytesConn) Write(b []byte) (int, error) { return c.out.Write(b) }
func (c *bytesConn) Close() error                { return nil }
func (c *bytesConn) LocalAddr() net.Addr         { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 3890} }
func (c *bytesConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (c *bytesConn) SetDeadline(time.Time) error      { return nil }
func (c *bytesConn) SetReadDeadline(time.Time) error  { return nil }
func (c *bytesConn) SetWriteDeadline(time.Time) error { return nil }

// countingDir counts Folders calls.
type countingDir struct {
	*fakeDir
	folderCalls int
}

func (d *countingDir) Folders(ctx context.Context, orgID string) ([]directory.Folder, error) {
	d.folderCalls++
	return d.fakeDir.Folders(ctx, orgID)
}
