package pbldap

import (
	"context"
	"sync"
	"time"

	"github.com/bifrost-video/bifrost/directory"
)

// folderCache keeps each organisation's folders for a short while: every
// search needs the tree, and folders change rarely (a sync, an admin's edit),
// so most searches skip that round trip. A change shows within the TTL.
type folderCache struct {
	dir Directory
	now func() time.Time
	ttl time.Duration

	mu   sync.Mutex
	orgs map[string]cachedFolders
}

type cachedFolders struct {
	at      time.Time
	folders []directory.Folder
}

func (fc *folderCache) get(ctx context.Context, orgID string) ([]directory.Folder, error) {
	now := fc.now()
	fc.mu.Lock()
	c, ok := fc.orgs[orgID]
	fc.mu.Unlock()
	if ok && now.Sub(c.at) < fc.ttl && !now.Before(c.at) {
		return c.folders, nil
	}
	fs, err := fc.dir.Folders(ctx, orgID)
	if err != nil {
		return nil, err
	}
	fc.mu.Lock()
	if len(fc.orgs) > 10000 {
		clear(fc.orgs) // many organisations: start over rather than grow
	}
	fc.orgs[orgID] = cachedFolders{at: now, folders: fs}
	fc.mu.Unlock()
	return fs, nil
}
