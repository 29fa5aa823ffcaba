package mount_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/meta"
	"github.com/fsmeta/fsmeta/mount"
)

// BenchmarkPhases runs the phases of `fsmeta bench` (mkdir, create, stat,
// rename, unlink, rmdir; one client, one directory) on a memkv store,
// straight on the store and through the kernel, so the cost of the FUSE
// path shows:
//
//	go test -run '^$' -bench Phases -benchtime 2000x ./mount/
//
// Targets: store calls meta by inode; mount uses os calls on a mount with
// zero cache timeouts (every path walk asks meta); mount-cached on one
// whose kernel caches attributes and entries for a second, as metafs does
// by default. Through the kernel, create is open(O_CREAT|O_EXCL) and close,
// which adds an open-handle record and its removal to the create.
func BenchmarkPhases(b *testing.B) {
	ctx := context.Background()
	newStore := func(b *testing.B) *meta.Store {
		s, err := meta.Open(ctx, memkv.New(memkv.Options{}), meta.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	var seq atomic.Int64
	targets := []struct {
		name string
		new  func(b *testing.B) phaser
	}{
		{"store", func(b *testing.B) phaser {
			s := newStore(b)
			d, err := s.Mkdir(ctx, meta.RootCred(), inode.RootIno, "d"+strconv.FormatInt(seq.Add(1), 10), 0o755)
			if err != nil {
				b.Fatal(err)
			}
			return &storePhaser{s: s, dir: d.Ino}
		}},
		{"mount", func(b *testing.B) phaser {
			e := mountStore(b, newStore(b), "", mount.Options{})
			return newMountPhaser(b, e.dir)
		}},
		{"mount-cached", func(b *testing.B) phaser {
			e := mountStore(b, newStore(b), "", mount.Options{AttrTimeout: time.Second, EntryTimeout: time.Second})
			return newMountPhaser(b, e.dir)
		}},
	}
	phases := []struct {
		name string
		prep []func(phaser, int) error // untimed, in order
		run  func(phaser, int) error
	}{
		{"mkdir", nil, phaser.mkdir},
		{"create", nil, phaser.create},
		{"stat", []func(phaser, int) error{phaser.create}, phaser.stat},
		{"rename", []func(phaser, int) error{phaser.create}, phaser.rename},
		{"unlink", []func(phaser, int) error{phaser.create, phaser.rename}, phaser.unlink},
		{"rmdir", []func(phaser, int) error{phaser.mkdir}, phaser.rmdir},
	}
	for _, tg := range targets {
		b.Run(tg.name, func(b *testing.B) {
			if tg.name != "store" {
				requireFUSE(b)
			}
			for _, ph := range phases {
				b.Run(ph.name, func(b *testing.B) {
					p := tg.new(b)
					for _, prep := range ph.prep {
						for i := 0; i < b.N; i++ {
							if err := prep(p, i); err != nil {
								b.Fatal(err)
							}
						}
					}
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if err := ph.run(p, i); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
				})
			}
		})
	}
}

// phaser does operation i of each phase in one directory.
type phaser interface {
	mkdir(i int) error
	create(i int) error
	stat(i int) error
	rename(i int) error // f<i> to g<i>
	unlink(i int) error // g<i>
	rmdir(i int) error
}

type storePhaser struct {
	s   *meta.Store
	dir uint64
}

var bctx = context.Background()

func (p *storePhaser) mkdir(i int) error {
	_, err := p.s.Mkdir(bctx, meta.RootCred(), p.dir, "m"+strconv.Itoa(i), 0o755)
	return err
}
func (p *storePhaser) create(i int) error {
	_, err := p.s.Create(bctx, meta.RootCred(), p.dir, "f"+strconv.Itoa(i), 0o644, true)
	return err
}
func (p *storePhaser) stat(i int) error {
	_, err := p.s.Lookup(bctx, meta.RootCred(), p.dir, "f"+strconv.Itoa(i))
	return err
}
func (p *storePhaser) rename(i int) error {
	return p.s.Rename(bctx, meta.RootCred(), p.dir, "f"+strconv.Itoa(i), p.dir, "g"+strconv.Itoa(i), 0)
}
func (p *storePhaser) unlink(i int) error {
	return p.s.Unlink(bctx, meta.RootCred(), p.dir, "g"+strconv.Itoa(i))
}
func (p *storePhaser) rmdir(i int) error {
	return p.s.Rmdir(bctx, meta.RootCred(), p.dir, "m"+strconv.Itoa(i))
}

type mountPhaser struct{ dir string }

func newMountPhaser(b *testing.B, mnt string) *mountPhaser {
	d := filepath.Join(mnt, "d")
	if err := os.Mkdir(d, 0o755); err != nil {
		b.Fatal(err)
	}
	return &mountPhaser{dir: d + "/"}
}

func (p *mountPhaser) mkdir(i int) error { return syscall.Mkdir(p.dir+"m"+strconv.Itoa(i), 0o755) }
func (p *mountPhaser) create(i int) error {
	fd, err := syscall.Open(p.dir+"f"+strconv.Itoa(i), syscall.O_CREAT|syscall.O_EXCL|syscall.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return syscall.Close(fd)
}
func (p *mountPhaser) stat(i int) error {
	var st syscall.Stat_t
	return syscall.Lstat(p.dir+"f"+strconv.Itoa(i), &st)
}
func (p *mountPhaser) rename(i int) error {
	return syscall.Rename(p.dir+"f"+strconv.Itoa(i), p.dir+"g"+strconv.Itoa(i))
}
func (p *mountPhaser) unlink(i int) error { return syscall.Unlink(p.dir + "g" + strconv.Itoa(i)) }
func (p *mountPhaser) rmdir(i int) error  { return syscall.Rmdir(p.dir + "m" + strconv.Itoa(i)) }
