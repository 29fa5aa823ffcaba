package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fsmeta/fsmeta/meta"
)

// step is one command line and what it must print and return. Output is
// matched exactly unless the want is a regexp (re set).
type step struct {
	args     []string
	code     int
	stdout   string
	stderr   string
	reOut    string // regexp stdout must match, instead of stdout
	reStderr string
}

func runSteps(t *testing.T, prefix []string, steps []step) {
	t.Helper()
	for _, s := range steps {
		args := append(append([]string{}, prefix...), s.args...)
		code, out, errs := cli(t, args...)
		name := "fsmeta " + strings.Join(s.args, " ")
		require.Equal(t, s.code, code, "%s: exit status\nstdout:\n%s\nstderr:\n%s", name, out, errs)
		if s.reOut != "" {
			require.Regexp(t, regexp.MustCompile(s.reOut), out, name)
		} else {
			require.Equal(t, s.stdout, out, name)
		}
		if s.reStderr != "" {
			require.Regexp(t, regexp.MustCompile(s.reStderr), errs, name)
		} else {
			require.Equal(t, s.stderr, errs, name)
		}
	}
}

const lsTimeRE = `[A-Z][a-z]{2} [ 0-9]\d (\d\d:\d\d| \d{4})`

func TestFileCommands_AgainstServer(t *testing.T) {
	addr, store := metaServer(t)
	runSteps(t, []string{"--server", addr}, []step{
		{args: []string{"mkdir", "-p", "/a/b/c"}},
		{args: []string{"mkdir", "a"}, code: 1, stderr: "fsmeta: mkdir: cannot create directory 'a': File exists\n"},
		{args: []string{"mkdir", "/x/y"}, code: 1, stderr: "fsmeta: mkdir: cannot create directory '/x/y': No such file or directory\n"},
		{args: []string{"mkdir", "-m", "0700", "/a/private"}},
		{args: []string{"mkdir", "-m", "999", "/a/bad"}, code: 2, reStderr: `^fsmeta: mkdir: invalid mode "999"`},
		{args: []string{"touch", "/a/f", "/a/.hidden"}},
		{args: []string{"touch", "/nope/f"}, code: 1, stderr: "fsmeta: touch: cannot touch '/nope/f': No such file or directory\n"},
		{args: []string{"touch", "-c", "/a/missing"}},
		{args: []string{"ln", "/a/f", "/a/hard"}},
		{args: []string{"ln", "/a/f", "/a/hard"}, code: 1, stderr: "fsmeta: ln: failed to create hard link '/a/hard' => '/a/f': File exists\n"},
		{args: []string{"ln", "/a/b", "/a/dirlink"}, code: 1, stderr: "fsmeta: ln: '/a/b': hard link not allowed for directory\n"},
		{args: []string{"ln", "/a/missing", "/a/x"}, code: 1, stderr: "fsmeta: ln: failed to access '/a/missing': No such file or directory\n"},
		{args: []string{"ln", "-s", "../f", "/a/b/sym"}},
		{args: []string{"ln", "-s", "/a/f", "/a/b"}}, // into the directory, as /a/b/f
		{args: []string{"ls", "/a"}, stdout: "b\nf\nhard\nprivate\n"},
		{args: []string{"ls", "-1a", "/a"}, stdout: ".\n..\n.hidden\nb\nf\nhard\nprivate\n"},
		{args: []string{"ls", "-l", "/a"}, reOut: `^drwxr-xr-x 3 0 0 0 ` + lsTimeRE + ` b\n` +
			`-rw-r--r-- 2 0 0 0 ` + lsTimeRE + ` f\n` +
			`-rw-r--r-- 2 0 0 0 ` + lsTimeRE + ` hard\n` +
			`drwx------ 2 0 0 0 ` + lsTimeRE + ` private\n$`},
		{args: []string{"ls", "-la", "/a/b"}, reOut: `^drwxr-xr-x 3 0 0 0 ` + lsTimeRE + ` \.\n` +
			`drwxr-xr-x 4 0 0 0 ` + lsTimeRE + ` \.\.\n` +
			`drwxr-xr-x 2 0 0 0 ` + lsTimeRE + ` c\n` +
			`lrwxrwxrwx 1 0 0 4 ` + lsTimeRE + ` f -> /a/f\n` +
			`lrwxrwxrwx 1 0 0 4 ` + lsTimeRE + ` sym -> \.\./f\n$`},
		{args: []string{"ls", "-d", "/a/b", "/a/f"}, stdout: "/a/b\n/a/f\n"},
		{args: []string{"ls", "/a/f", "/a/b", "/a/b/c"}, stdout: "/a/f\n\n/a/b:\nc\nf\nsym\n\n/a/b/c:\n"},
		{args: []string{"ls", "/a/nope"}, code: 1, stderr: "fsmeta: ls: cannot access '/a/nope': No such file or directory\n"},
		{args: []string{"ls", "-z"}, code: 2, reStderr: `^fsmeta: ls: unknown shorthand flag: 'z' in -z\nTry 'fsmeta ls --help' for more information\.\n$`},
		{args: []string{"stat", "/a/f"}, reOut: `^  File: /a/f\n` +
			`  Size: 0         \tInode: \d+\s+\tLinks: 2     regular empty file\n` +
			`Access: \(0644/-rw-r--r--\)  Uid: \(    0\)   Gid: \(    0\)\n` +
			`Access: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} [+-]\d{4}\n` +
			`Modify: .*\nChange: .*\n$`},
		{args: []string{"stat", "/a/b/sym"}, reOut: `^  File: /a/b/sym -> \.\./f\n  Size: 4 .*symbolic link\nAccess: \(0777/lrwxrwxrwx\)`},
		{args: []string{"stat", "-L", "/a/b/sym"}, reOut: `^  File: /a/b/sym\n  Size: 0 .*regular empty file\n`},
		{args: []string{"stat", "/a/zz"}, code: 1, stderr: "fsmeta: stat: cannot statx '/a/zz': No such file or directory\n"},
		{args: []string{"tree", "/a"}, stdout: "/a\n├── b\n│   ├── c\n│   ├── f -> /a/f\n│   └── sym -> ../f\n├── f\n├── hard\n└── private\n\n3 directories, 4 files\n"},
		{args: []string{"tree", "-L", "1", "-a", "/a"}, stdout: "/a\n├── .hidden\n├── b\n├── f\n├── hard\n└── private\n\n2 directories, 3 files\n"},
		{args: []string{"mv", "/a/f", "/a/b/c"}}, // into the directory
		{args: []string{"ls", "/a/b/c"}, stdout: "f\n"},
		{args: []string{"mv", "/a/hard", "/a/b/c/f", "/a/.hidden", "/a/b/c/f2"}, code: 1, stderr: "fsmeta: mv: target '/a/b/c/f2' is not a directory\n"},
		{args: []string{"mv", "-n", "/a/hard", "/a/b/c/f"}, code: 1, stderr: "fsmeta: mv: not replacing '/a/b/c/f'\n"},
		{args: []string{"mv", "/a/hard", "/a/b/c/f"}}, // two links of one inode: rename(2) does nothing
		{args: []string{"ls", "/a/hard", "/a/b/c"}, stdout: "/a/hard\n\n/a/b/c:\nf\n"},
		{args: []string{"touch", "/a/repl"}},
		{args: []string{"mv", "/a/repl", "/a/b/c/f"}}, // replaces f: hard is the inode's last link
		{args: []string{"ls", "-l", "/a/hard"}, reOut: `^-rw-r--r-- 1 0 0 0 ` + lsTimeRE + ` /a/hard\n$`},
		{args: []string{"mv", "/a/gone", "/a/x"}, code: 1, stderr: "fsmeta: mv: cannot stat '/a/gone': No such file or directory\n"},
		{args: []string{"mv", "/a/b", "/a/b/c/sub"}, code: 1, stderr: "fsmeta: mv: cannot move '/a/b' to '/a/b/c/sub': Invalid argument\n"},
		{args: []string{"touch", "/a/one", "/a/two"}},
		{args: []string{"mv", "--exchange", "/a/one", "/a/private"}},
		{args: []string{"ls", "-ld", "/a/one"}, reOut: `^drwx------ `}, // exchanged
		{args: []string{"rm", "/a/missing"}, code: 1, stderr: "fsmeta: rm: cannot remove '/a/missing': No such file or directory\n"},
		{args: []string{"rm", "-f", "/a/missing"}},
		{args: []string{"rm", "/a/b"}, code: 1, stderr: "fsmeta: rm: cannot remove '/a/b': Is a directory\n"},
		{args: []string{"rm", "-r", "/"}, code: 1, stderr: "fsmeta: rm: it is dangerous to operate on '/'; refusing\n"},
		{args: []string{"rm"}, code: 2, reStderr: `^fsmeta: rm: missing operand\n`},
		{args: []string{"rmdir", "/a/b"}, code: 1, stderr: "fsmeta: rmdir: failed to remove '/a/b': Directory not empty\n"},
		{args: []string{"rmdir", "/a/one"}},
		{args: []string{"rm", "/a/two", "/a/private"}},
		{args: []string{"rm", "-rf", "/a/b", "/a/nothing"}},
		{args: []string{"ls", "-a", "/a"}, stdout: ".\n..\n.hidden\nhard\n"},
		{args: []string{"fsck"}, stdout: "fsck: 4 inodes, 2 directories, 3 entries: clean\n"},
	})
	r, err := store.Check(context.Background())
	require.NoError(t, err)
	require.Equal(t, 4, r.Inodes)

	// The server's files are the store's: what the CLI made is there.
	a, err := store.Stat(context.Background(), meta.RootCred(), "/a/.hidden")
	require.NoError(t, err)
	require.Equal(t, uint32(0o644), a.Mode)
}

func TestFileCommands_JSON(t *testing.T) {
	addr, _ := metaServer(t)
	srv := []string{"--server", addr}
	must(t, append(srv, "mkdir", "-p", "/d/e")...)
	must(t, append(srv, "ln", "-s", "e", "/d/l")...)

	var st jsonAttr
	require.NoError(t, json.Unmarshal([]byte(must(t, append(srv, "stat", "--json", "/d")...)), &st))
	require.Equal(t, "/d", st.Path)
	require.Equal(t, "dir", st.Type)
	require.Equal(t, "0755", st.Mode)
	require.Equal(t, "drwxr-xr-x", st.Perm)
	require.Equal(t, uint32(3), st.Nlink)

	lines := strings.Split(strings.TrimSpace(must(t, append(srv, "ls", "--json", "/d")...)), "\n")
	require.Len(t, lines, 2)
	var e, l jsonAttr
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &e))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &l))
	require.Equal(t, [2]string{"e", "/d/e"}, [2]string{e.Name, e.Path})
	require.Equal(t, [3]string{"l", "symlink", "e"}, [3]string{l.Name, l.Type, l.Target})

	var rep struct {
		OK                    bool
		Inodes, Dirs, Entries int
		Problems              []any
	}
	require.NoError(t, json.Unmarshal([]byte(must(t, append(srv, "fsck", "--json")...)), &rep))
	require.True(t, rep.OK)
	require.Equal(t, 4, rep.Inodes)
	require.NotNil(t, rep.Problems)
}

func TestFileCommands_ConfigKeepsTheNamespace(t *testing.T) {
	cfg := customKVConfig(t)
	// Every run is its own process-like invocation with a new engine
	// connection: the namespace lives in the KV server.
	runSteps(t, []string{"--config", cfg}, []step{
		{args: []string{"mkdir", "-p", "/p/q"}},
		{args: []string{"touch", "/p/q/file"}},
		{args: []string{"mv", "/p/q/file", "/p/renamed"}},
		{args: []string{"tree", "/p"}, stdout: "/p\n├── q\n└── renamed\n\n1 directory, 1 file\n"},
		{args: []string{"rm", "-r", "/p/q"}},
		{args: []string{"fsck"}, stdout: "fsck: 3 inodes, 2 directories, 2 entries: clean\n"},
	})
	// Go-style single-dash long flags work too.
	require.Equal(t, "renamed\n", must(t, "-config", cfg, "ls", "/p"))
	require.Equal(t, "renamed\n", must(t, "ls", "-config="+cfg, "/p"))
}

func TestFileCommands_MemkvIsEmptyPerProcess(t *testing.T) {
	runSteps(t, nil, []step{
		{args: []string{"mkdir", "/a"}},
		{args: []string{"ls", "/a"}, code: 1, stderr: "fsmeta: ls: cannot access '/a': No such file or directory\n"},
		{args: []string{"ls"}, stdout: ""},
	})
}

func TestFileCommands_Credentials(t *testing.T) {
	addr, _ := metaServer(t)
	srv := []string{"--server", addr}
	must(t, append(srv, "mkdir", "-m", "0700", "/root-only")...)
	must(t, append(srv, "mkdir", "-m", "0777", "/open")...)
	runSteps(t, append(srv, "--uid", "1000", "--gid", "100"), []step{
		{args: []string{"touch", "/root-only/f"}, code: 1, stderr: "fsmeta: touch: cannot touch '/root-only/f': Permission denied\n"},
		{args: []string{"ls", "/root-only"}, code: 1, stderr: "fsmeta: ls: cannot open directory '/root-only': Permission denied\n"},
		{args: []string{"touch", "/open/mine"}},
		{args: []string{"ls", "-l", "/open"}, reOut: `^-rw-r--r-- 1 1000 100 0 ` + lsTimeRE + ` mine\n$`},
	})
	// A supplementary group grants what the primary one does not.
	must(t, append(srv, "mkdir", "-m", "0770", "/grp")...)
	code, _, errs := cli(t, append(srv, "--uid", "5", "--gid", "5", "touch", "/grp/x")...)
	require.Equal(t, 1, code, errs)
	must(t, append(srv, "--uid", "5", "--gid", "5", "--groups", "0,7", "touch", "/grp/x")...)
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string // substring of stdout
		err  string // substring of stderr
	}{
		{[]string{}, 2, "", "Usage:"},
		{[]string{"nope"}, 2, "", `unknown command "nope"`},
		{[]string{"--help"}, 0, "bench", ""},
		{[]string{"mkdir"}, 2, "", "fsmeta: mkdir: requires at least 1 arg(s)"},
		{[]string{"mv", "a"}, 2, "", "fsmeta: mv: requires at least 2 arg(s)"},
		{[]string{"mv", "-n", "--exchange", "a", "b"}, 2, "", "mutually exclusive"},
		{[]string{"fsck", "extra"}, 2, "", `unknown command "extra"`},
		{[]string{"--server", "x", "--config", "y", "ls"}, 1, "", "give one"},
		{[]string{"--config", "/nonexistent.toml", "ls"}, 1, "", "nonexistent.toml"},
		{[]string{"completion", "bash"}, 0, "bash completion", ""},
		{[]string{"tree", "-L", "-1"}, 2, "", "at least 1"},
	} {
		code, out, errs := cli(t, tc.args...)
		require.Equal(t, tc.code, code, "%v\nstdout:\n%s\nstderr:\n%s", tc.args, out, errs)
		require.Contains(t, out, tc.out, "%v", tc.args)
		require.Contains(t, errs, tc.err, "%v", tc.args)
	}
}
