package pbldap

import (
	"context"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/directory"
)

func TestFolderTreeIsReusedForItsTTL(t *testing.T) {
	d := &countingDir{fakeDir: smallDir()}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	fc := &folderCache{dir: d, now: func() time.Time { return now }, ttl: 5 * time.Second, orgs: map[string]cachedFolders{}}
	ctx := context.Background()
	get := func() []directory.Folder {
		fs, err := fc.get(ctx, "org")
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
	get()
	now = now.Add(4 * time.Second)
	if fs := get(); d.folderCalls != 1 || len(fs) != 1 {
		t.Errorf("within the TTL: %d reads, %d folders", d.folderCalls, len(fs))
	}
	d.folders = append(d.folders, directory.Folder{ID: "f-bergen", OrganisationID: "org", Name: "Bergen"})
	now = now.Add(2 * time.Second)
	if fs := get(); d.folderCalls != 2 || len(fs) != 2 {
		t.Errorf("after the TTL: %d reads, %d folders; want the new folder", d.folderCalls, len(fs))
	}
	if _, err := fc.get(ctx, "other"); err != nil || d.folderCalls != 3 {
		t.Errorf("another organisation shares the cache entry: %d reads", d.folderCalls)
	}
}
