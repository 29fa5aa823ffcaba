package main

import (
	"testing"
)

func TestXattrCommands_AgainstServer(t *testing.T) {
	addr, _ := metaServer(t)
	runSteps(t, []string{"--server", addr}, []step{
		{args: []string{"touch", "/f"}},
		{args: []string{"ln", "-s", "f", "/l"}},
		{args: []string{"setfattr", "-n", "user.k", "-v", "hello", "/f"}},
		{args: []string{"setfattr", "-n", "user.bin", "-v", "0x00ff", "/f"}},
		{args: []string{"setfattr", "-n", "user.q", "-v", `"a\tb"`, "/f"}},
		{args: []string{"setfattr", "-n", "user.k", "-v", "x", "--create", "/f"}, code: 1,
			stderr: "fsmeta: setfattr: /f: user.k: File exists\n"},
		{args: []string{"setfattr", "-n", "user.new", "-v", "x", "--replace", "/f"}, code: 1,
			stderr: "fsmeta: setfattr: /f: user.new: No data available\n"},
		{args: []string{"getfattr", "-d", "/f"},
			stdout: "# file: f\nuser.bin=0sAP8=\nuser.k=\"hello\"\nuser.q=0sYQli\n\n"},
		{args: []string{"getfattr", "-n", "user.k", "-e", "hex", "/f"}, stdout: "# file: f\nuser.k=0x68656c6c6f\n\n"},
		{args: []string{"getfattr", "-n", "user.k", "/l"}, stdout: "# file: l\nuser.k=\"hello\"\n\n"},
		{args: []string{"getfattr", "-n", "user.k", "--no-dereference", "/l"}, code: 1,
			stderr: "fsmeta: getfattr: /l: user.k: No data available\n"},
		{args: []string{"getfattr", "-n", "user.nope", "/f"}, code: 1,
			stderr: "fsmeta: getfattr: /f: user.nope: No data available\n"},
		{args: []string{"getfattr", "--json", "-d", "/f"},
			stdout: `{"file":"/f","xattrs":[{"name":"user.bin","base64":"AP8="},{"name":"user.k","value":"hello","base64":"aGVsbG8="},{"name":"user.q","value":"a\tb","base64":"YQli"}]}` + "\n"},
		{args: []string{"setfattr", "-x", "user.k", "/f"}},
		{args: []string{"setfattr", "-x", "user.k", "/f"}, code: 1, stderr: "fsmeta: setfattr: /f: user.k: No data available\n"},
		{args: []string{"setfattr", "-n", "trusted.t", "-v", "1", "/f"}},
		{args: []string{"getfattr", "-d", "-m", "-", "/f"}, stdout: "# file: f\ntrusted.t=\"1\"\nuser.bin=0sAP8=\nuser.q=0sYQli\n\n"},
		{args: []string{"getfattr", "-d", "-m", "^trusted", "/f"}, stdout: "# file: f\ntrusted.t=\"1\"\n\n"},
		// A non-root caller does not see trusted.* and may not set it.
		{args: []string{"--uid", "5", "getfattr", "-d", "-m", "-", "/f"}, stdout: "# file: f\nuser.bin=0sAP8=\nuser.q=0sYQli\n\n"},
		{args: []string{"--uid", "5", "setfattr", "-n", "trusted.t", "-v", "2", "/f"}, code: 1,
			stderr: "fsmeta: setfattr: /f: trusted.t: Operation not permitted\n"},
		{args: []string{"setfattr", "-n", "bad", "-v", "1", "/f"}, code: 1,
			stderr: "fsmeta: setfattr: /f: bad: Operation not supported\n"},
		{args: []string{"setfattr", "-n", "user.x", "-v", "0xzz", "/f"}, code: 2, reStderr: `bad -v value`},
		{args: []string{"setfattr", "/f"}, code: 2, reStderr: `give exactly one of -n NAME and -x NAME`},
		{args: []string{"setfattr", "-x", "user.k", "-v", "1", "/f"}, code: 2, reStderr: `-x takes no -v`},
		{args: []string{"getfattr", "-d", "-m", "(", "/f"}, code: 2, reStderr: `bad -m pattern`},
		{args: []string{"getfattr", "-e", "rot13", "-d", "/f"}, code: 2, reStderr: `bad -e encoding`},
		{args: []string{"getfattr", "-d", "/missing"}, code: 1, stderr: "fsmeta: getfattr: /missing: No such file or directory\n"},
		{args: []string{"fsck"}, reOut: `clean`},
	})
}
