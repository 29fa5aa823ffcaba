package mount

import (
	"log/slog"
	"time"
)

// Options configure a mount. The zero value of each field but DataDir is
// its default.
type Options struct {
	// DataDir holds file contents, one file per inode named by its decimal
	// id. Required; it is created (mode 0700) if missing. Files in it whose
	// inodes meta no longer has are removed in the background after
	// mounting (Server.WaitSwept).
	DataDir string
	// AttrTimeout and EntryTimeout are how long the kernel may cache
	// attributes and name lookups (default 0: every stat and path walk asks
	// meta, as strict tests and several writers on one store need).
	AttrTimeout  time.Duration
	EntryTimeout time.Duration
	// AllowOther lets users other than the one who mounted use the mount
	// (FUSE's allow_other). Meta checks their permissions either way.
	AllowOther bool
	// Debug logs every FUSE request and reply through the log package.
	Debug bool
	// FSName is the source shown in /proc/mounts and df (default "fsmeta").
	FSName string
	// Logger receives errors that no caller can be told of, such as a data
	// file that could not be removed after its inode went (default
	// slog.Default()).
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.FSName == "" {
		o.FSName = "fsmeta"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}
