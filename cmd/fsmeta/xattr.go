package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/fsmeta/fsmeta/meta"
)

// getfattrCommand prints extended attributes in the shape of attr's
// getfattr(1): "# file: PATH", then NAME="VALUE" lines, then a blank line.
func getfattrCommand(a *app) *cobra.Command {
	var (
		name, match, encoding string
		dump, noDeref, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "getfattr [-n NAME | -d [-m REGEXP]] [-e text|hex|base64] [--no-dereference] [--json] FILE...",
		Short: "Print extended attributes",
		Long: `Print extended attributes as getfattr(1) does. -n NAME prints one attribute;
-d prints every attribute whose name matches -m (default ^user\., "-" for all).
Values are printed quoted when they are printable text, else in base64 ("0s"
prefix); -e picks the encoding. --no-dereference does not follow a symbolic link at the end.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" && !dump {
				dump = true
			}
			switch {
			case !cmd.Flags().Changed("match"):
				match = `^user\.`
			case match == "-":
				match = ""
			}
			re, err := regexp.Compile(match)
			if err != nil {
				return usageError{fmt.Errorf("bad -m pattern: %v", err)}
			}
			switch encoding {
			case "", "text", "hex", "base64":
			default:
				return usageError{fmt.Errorf("bad -e encoding %q (text, hex or base64)", encoding)}
			}
			return a.withFS(cmd, func(ctx context.Context, fsys meta.FS, c meta.Cred) bool {
				ok := true
				for _, arg := range args {
					if !getfattrOne(ctx, a, fsys, c, arg, name, re, encoding, noDeref, asJSON) {
						ok = false
					}
				}
				return ok
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&name, "name", "n", "", "print the attribute NAME")
	f.BoolVarP(&dump, "dump", "d", false, "print every attribute matching -m")
	f.StringVarP(&match, "match", "m", "", `names to dump (regexp; default ^user\., "-" for all)`)
	f.StringVarP(&encoding, "encoding", "e", "", "value encoding: text, hex or base64 (default: text when printable)")
	f.BoolVar(&noDeref, "no-dereference", false, "do not follow a symbolic link at the end")
	f.BoolVar(&asJSON, "json", false, "print one JSON object per file")
	return cmd
}

type xattrJSON struct {
	Name   string `json:"name"`
	Value  string `json:"value,omitempty"` // the value, when it is valid UTF-8
	Base64 string `json:"base64"`
}

func getfattrOne(ctx context.Context, a *app, fsys meta.FS, c meta.Cred, arg, name string, re *regexp.Regexp, encoding string, noDeref, asJSON bool) bool {
	p := storePath(arg)
	stat := fsys.Stat
	if noDeref {
		stat = fsys.Lstat
	}
	at, err := stat(ctx, c, p)
	if err != nil {
		a.failf("getfattr", "%s: %s", arg, errText(err))
		return false
	}
	var names []string
	if name != "" {
		names = []string{name}
	} else {
		all, err := fsys.ListXattr(ctx, c, at.Ino)
		if err != nil {
			a.failf("getfattr", "%s: %s", arg, errText(err))
			return false
		}
		for _, n := range all {
			if re.MatchString(n) {
				names = append(names, n)
			}
		}
	}
	type kv struct {
		name  string
		value []byte
	}
	var got []kv
	ok := true
	for _, n := range names {
		v, err := fsys.GetXattr(ctx, c, at.Ino, n)
		if err != nil {
			a.failf("getfattr", "%s: %s: %s", arg, n, errText(err))
			ok = false
			continue
		}
		got = append(got, kv{n, v})
	}
	if asJSON {
		out := struct {
			File   string      `json:"file"`
			Xattrs []xattrJSON `json:"xattrs"`
		}{File: p, Xattrs: []xattrJSON{}}
		for _, x := range got {
			j := xattrJSON{Name: x.name, Base64: base64.StdEncoding.EncodeToString(x.value)}
			if utf8.Valid(x.value) {
				j.Value = string(x.value)
			}
			out.Xattrs = append(out.Xattrs, j)
		}
		writeJSON(a.stdout, out)
		return ok
	}
	if len(got) == 0 {
		return ok
	}
	fmt.Fprintf(a.stdout, "# file: %s\n", strings.TrimPrefix(p, "/"))
	for _, x := range got {
		fmt.Fprintf(a.stdout, "%s=%s\n", x.name, encodeXattr(x.value, encoding))
	}
	fmt.Fprintln(a.stdout)
	return ok
}

// encodeXattr formats v as getfattr does: "quoted text", 0x hex or 0s
// base64.
func encodeXattr(v []byte, encoding string) string {
	switch encoding {
	case "hex":
		return "0x" + hex.EncodeToString(v)
	case "base64":
		return "0s" + base64.StdEncoding.EncodeToString(v)
	case "text":
		return strconv.Quote(string(v))
	}
	if utf8.Valid(v) && strings.IndexFunc(string(v), func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return strconv.Quote(string(v))
	}
	return "0s" + base64.StdEncoding.EncodeToString(v)
}

// decodeXattr parses a setfattr value: 0x hex, 0s base64, "quoted" text
// (Go escapes), or the text as given.
func decodeXattr(s string) ([]byte, error) {
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		return hex.DecodeString(s[2:])
	case strings.HasPrefix(s, "0s") || strings.HasPrefix(s, "0S"):
		return base64.StdEncoding.DecodeString(s[2:])
	case len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"':
		u, err := strconv.Unquote(s)
		return []byte(u), err
	}
	return []byte(s), nil
}

// setfattrCommand sets or removes one extended attribute, as attr's
// setfattr(1).
func setfattrCommand(a *app) *cobra.Command {
	var (
		name, value, remove      string
		create, replace, noDeref bool
	)
	cmd := &cobra.Command{
		Use:   "setfattr {-n NAME [-v VALUE] [--create|--replace] | -x NAME} [--no-dereference] FILE...",
		Short: "Set or remove an extended attribute",
		Long: `Set (-n NAME -v VALUE) or remove (-x NAME) an extended attribute, as setfattr(1)
does. VALUE is text, "quoted text", 0x followed by hex, or 0s followed by base64;
without -v the value is empty. --create fails if the attribute exists, --replace
if it does not. --no-dereference does not follow a symbolic link at the end.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (name == "") == (remove == "") {
				return usageError{fmt.Errorf("give exactly one of -n NAME and -x NAME")}
			}
			if remove != "" && (cmd.Flags().Changed("value") || create || replace) {
				return usageError{fmt.Errorf("-x takes no -v, --create or --replace")}
			}
			v, err := decodeXattr(value)
			if err != nil {
				return usageError{fmt.Errorf("bad -v value: %v", err)}
			}
			flags := 0
			if create {
				flags |= meta.XattrCreate
			}
			if replace {
				flags |= meta.XattrReplace
			}
			return a.withFS(cmd, func(ctx context.Context, fsys meta.FS, c meta.Cred) bool {
				ok := true
				for _, arg := range args {
					if err := setfattrOne(ctx, fsys, c, storePath(arg), name, remove, v, flags, noDeref); err != nil {
						n := name + remove
						a.failf("setfattr", "%s: %s: %s", arg, n, errText(err))
						ok = false
					}
				}
				return ok
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&name, "name", "n", "", "the attribute to set")
	f.StringVarP(&value, "value", "v", "", "the value (text, \"text\", 0xHEX or 0sBASE64)")
	f.StringVarP(&remove, "remove", "x", "", "the attribute to remove")
	f.BoolVar(&create, "create", false, "fail if the attribute exists (XATTR_CREATE)")
	f.BoolVar(&replace, "replace", false, "fail if the attribute does not exist (XATTR_REPLACE)")
	f.BoolVar(&noDeref, "no-dereference", false, "do not follow a symbolic link at the end")
	return cmd
}

func setfattrOne(ctx context.Context, fsys meta.FS, c meta.Cred, p, name, remove string, v []byte, flags int, noDeref bool) error {
	stat := fsys.Stat
	if noDeref {
		stat = fsys.Lstat
	}
	at, err := stat(ctx, c, p)
	if err != nil {
		return err
	}
	if remove != "" {
		return fsys.RemoveXattr(ctx, c, at.Ino, remove)
	}
	return fsys.SetXattr(ctx, c, at.Ino, name, v, flags)
}
