package mount

import (
	"bufio"
	"bytes"
	"os"
	"strconv"

	"github.com/fsmeta/fsmeta/meta"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// caller returns the credentials a FUSE request runs under: the request's
// uid and gid (the caller's fsuid and fsgid; for ACCESS, its real ids, and
// then real says so) and the supplementary groups of the requesting thread
// read from /proc/<pid>/status. See the package documentation for the
// limits of reading groups after the fact.
func caller(h *fuse.InHeader, real bool) meta.Cred {
	c := meta.Cred{Uid: h.Uid, Gid: h.Gid}
	if c.Uid == 0 || h.Pid == 0 {
		return c
	}
	field := 3 // fs ids
	if real {
		field = 0
	}
	c.Groups = procGroups(h.Pid, h.Uid, h.Gid, field)
	return c
}

// procGroups reads the supplementary groups of pid, or nil when its status
// is unreadable or shows other ids than uid and gid in field (0 real, 3 fs)
// of its Uid and Gid lines.
func procGroups(pid, uid, gid uint32, field int) []uint32 {
	b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/status")
	if err != nil {
		return nil
	}
	var groups []uint32
	okUid, okGid := false, false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		key, rest, found := bytes.Cut(line, []byte(":"))
		if !found {
			continue
		}
		f := bytes.Fields(rest)
		switch string(key) {
		case "Uid":
			// real, effective, saved, fs
			okUid = len(f) == 4 && string(f[field]) == strconv.FormatUint(uint64(uid), 10)
		case "Gid":
			okGid = len(f) == 4 && string(f[field]) == strconv.FormatUint(uint64(gid), 10)
		case "Groups":
			for _, g := range f {
				v, err := strconv.ParseUint(string(g), 10, 32)
				if err != nil {
					return nil
				}
				groups = append(groups, uint32(v))
			}
		}
	}
	if !okUid || !okGid {
		return nil
	}
	return groups
}
