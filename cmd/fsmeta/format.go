package main

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
)

// errText is how coreutils prints an error: the strerror text of its errno
// ("No such file or directory"), or the whole message when it carries none
// (an engine or connection failure).
func errText(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		s := en.Error()
		r, n := utf8.DecodeRuneInString(s)
		return string(unicode.ToUpper(r)) + s[n:]
	}
	return err.Error()
}

// modeString is ls -l's mode column: the type letter and rwx triplets with
// setuid, setgid and sticky shown as s/S and t/T.
func modeString(t inode.Type, mode uint32) string {
	b := []byte("?---------")
	switch t {
	case inode.TypeFile:
		b[0] = '-'
	case inode.TypeDir:
		b[0] = 'd'
	case inode.TypeSymlink:
		b[0] = 'l'
	case inode.TypeFIFO:
		b[0] = 'p'
	case inode.TypeSocket:
		b[0] = 's'
	case inode.TypeChar:
		b[0] = 'c'
	case inode.TypeBlock:
		b[0] = 'b'
	}
	const rwx = "rwxrwxrwx"
	for i := range 9 {
		if mode&(1<<(8-i)) != 0 {
			b[1+i] = rwx[i]
		}
	}
	special := func(pos int, bit uint32, set, unset byte) {
		if mode&bit == 0 {
			return
		}
		if b[pos] == '-' {
			b[pos] = unset
		} else {
			b[pos] = set
		}
	}
	special(3, inode.ModeSetuid, 's', 'S')
	special(6, inode.ModeSetgid, 's', 'S')
	special(9, inode.ModeSticky, 't', 'T')
	return string(b)
}

// typeText is stat's %F.
func typeText(a meta.Attr) string {
	switch a.Type {
	case inode.TypeFile:
		if a.Size == 0 {
			return "regular empty file"
		}
		return "regular file"
	case inode.TypeDir:
		return "directory"
	case inode.TypeSymlink:
		return "symbolic link"
	case inode.TypeFIFO:
		return "fifo"
	case inode.TypeSocket:
		return "socket"
	case inode.TypeChar:
		return "character special file"
	case inode.TypeBlock:
		return "block special file"
	}
	return "weird file"
}

// devNumbers splits a Linux dev_t (new encoding, 32 bits) into major and
// minor.
func devNumbers(rdev uint32) (major, minor uint32) {
	return (rdev >> 8) & 0xfff, (rdev & 0xff) | ((rdev >> 12) & 0xfff00)
}

// lsTime is ls -l's time column: month, day and time for times within six
// months of now, month, day and year otherwise.
func lsTime(t, now time.Time) string {
	t = t.Local()
	if t.After(now.Add(-182*24*time.Hour)) && !t.After(now.Add(time.Hour)) {
		return t.Format("Jan _2 15:04")
	}
	return t.Format("Jan _2  2006")
}

// statTime is stat's time format.
func statTime(t time.Time) string {
	return t.Local().Format("2006-01-02 15:04:05.000000000 -0700")
}

// jsonAttr is the JSON form of a file in ls, stat and tree output.
type jsonAttr struct {
	Path   string `json:"path"`
	Name   string `json:"name,omitempty"`
	Ino    uint64 `json:"ino"`
	Type   string `json:"type"`
	Mode   string `json:"mode"`      // octal permission bits, "0755"
	Perm   string `json:"mode_text"` // "drwxr-xr-x"
	Nlink  uint32 `json:"nlink"`
	Uid    uint32 `json:"uid"`
	Gid    uint32 `json:"gid"`
	Size   uint64 `json:"size"`
	Rdev   uint32 `json:"rdev,omitempty"`
	Atime  string `json:"atime"`
	Mtime  string `json:"mtime"`
	Ctime  string `json:"ctime"`
	Target string `json:"target,omitempty"`
}

func toJSONAttr(p, name string, a meta.Attr, target string) jsonAttr {
	return jsonAttr{
		Path: p, Name: name, Ino: a.Ino, Type: a.Type.String(),
		Mode: fmt.Sprintf("%04o", a.Mode), Perm: modeString(a.Type, a.Mode),
		Nlink: a.Nlink, Uid: a.Uid, Gid: a.Gid, Size: a.Size, Rdev: a.Rdev,
		Atime: a.Atime.UTC().Format(time.RFC3339Nano), Mtime: a.Mtime.UTC().Format(time.RFC3339Nano),
		Ctime: a.Ctime.UTC().Format(time.RFC3339Nano), Target: target,
	}
}

// storePath makes a command-line path absolute in the store's namespace:
// relative paths are taken from the root.
func storePath(p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return "/" + p
}
