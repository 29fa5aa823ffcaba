package keys

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// vectorsPath locates the shared tuple vectors: $FSMETA_SHARED if set,
// else the shared/ directory beside the repository clone.
func vectorsPath() string {
	dir := os.Getenv("FSMETA_SHARED")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared")
	}
	return filepath.Join(dir, "testdata", "tuple-vectors.txt")
}

func TestVectors(t *testing.T) {
	path := vectorsPath()
	f, err := os.Open(path)
	require.NoError(t, err, "tuple vectors are required; set FSMETA_SHARED to the shared/ directory")
	defer f.Close()

	n := 0
	sc := bufio.NewScanner(f)
	for line := 0; sc.Scan(); {
		line++
		text := sc.Text()
		if strings.HasPrefix(text, "#") || strings.TrimSpace(text) == "" {
			continue
		}
		notation, hexStr, ok := strings.Cut(text, "\t")
		require.True(t, ok, "%s:%d: no tab", path, line)
		want, err := hex.DecodeString(strings.TrimSpace(hexStr))
		require.NoError(t, err, "%s:%d", path, line)
		tup, err := parseTupleNotation(notation)
		require.NoError(t, err, "%s:%d", path, line)
		n++

		t.Run(notation, func(t *testing.T) {
			got, err := tup.PackErr()
			require.NoError(t, err)
			require.Equal(t, hex.EncodeToString(want), hex.EncodeToString(got), "pack %s", notation)
			back, err := Unpack(want)
			require.NoError(t, err)
			requireTupleEqual(t, tup, back)
		})
	}
	require.NoError(t, sc.Err())
	require.NotZero(t, n, "no vectors in %s", path)
}

func TestParseTupleNotation(t *testing.T) {
	got, err := parseTupleNotation(`(b"a\x00", "\u00e9\\", -18446744073709551616, f32(1.5), -2.5e3, (None,), UUID(00112233-4455-6677-8899-aabbccddeeff), VS(00000000000000000001, 7), True)`)
	require.NoError(t, err)
	want := Tuple{
		[]byte("a\x00"), "é\\", new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 64)),
		float32(1.5), -2500.0, Tuple{nil},
		UUID{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff},
		Versionstamp{TransactionVersion: [10]byte{9: 1}, UserVersion: 7}, true,
	}
	requireTupleEqual(t, want, got)
	for _, bad := range []string{"", "(", "(1", "(1,,)", `("x)`, "(Nope,)", "(1) x"} {
		_, err := parseTupleNotation(bad)
		require.Error(t, err, "%q", bad)
	}
}

// parseTupleNotation parses the Python-like tuple notation of the vector
// file. Integers come back normalized as Unpack returns them.
func parseTupleNotation(s string) (Tuple, error) {
	p := &notationParser{s: s}
	p.space()
	tup, err := p.tuple()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.errorf("trailing input")
	}
	return tup, nil
}

type notationParser struct {
	s string
	i int
}

func (p *notationParser) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d in %q: %s", p.i, p.s, fmt.Sprintf(format, args...))
}

func (p *notationParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *notationParser) eat(tok string) bool {
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *notationParser) tuple() (Tuple, error) {
	if !p.eat("(") {
		return nil, p.errorf("want (")
	}
	tup := Tuple{}
	for {
		p.space()
		if p.eat(")") {
			return tup, nil
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		tup = append(tup, v)
		p.space()
		if p.eat(")") {
			if len(tup) == 1 {
				return nil, p.errorf("1-tuple needs a trailing comma")
			}
			return tup, nil
		}
		if !p.eat(",") {
			return nil, p.errorf("want , or )")
		}
	}
}

func (p *notationParser) value() (any, error) {
	switch {
	case p.i >= len(p.s):
		return nil, p.errorf("unexpected end")
	case p.s[p.i] == '(':
		return p.tuple()
	case p.eat(`b"`):
		s, err := p.quoted(true)
		return []byte(s), err
	case p.eat(`"`):
		return p.quoted(false)
	case p.eat("None"):
		return nil, nil
	case p.eat("True"):
		return true, nil
	case p.eat("False"):
		return false, nil
	case p.eat("f32("):
		tok, err := p.until(")")
		if err != nil {
			return nil, err
		}
		f, err := parseFloat(tok, 32)
		return float32(f), err
	case p.eat("UUID("):
		tok, err := p.until(")")
		if err != nil {
			return nil, err
		}
		raw, err := hex.DecodeString(strings.ReplaceAll(tok, "-", ""))
		if err != nil || len(raw) != 16 {
			return nil, p.errorf("bad UUID %q", tok)
		}
		return UUID(raw), nil
	case p.eat("VS("):
		tok, err := p.until(")")
		if err != nil {
			return nil, err
		}
		txHex, userStr, ok := strings.Cut(tok, ",")
		raw, err1 := hex.DecodeString(strings.TrimSpace(txHex))
		user, err2 := strconv.ParseUint(strings.TrimSpace(userStr), 10, 16)
		if !ok || err1 != nil || err2 != nil || len(raw) != 10 {
			return nil, p.errorf("bad VS %q", tok)
		}
		return Versionstamp{TransactionVersion: [10]byte(raw), UserVersion: uint16(user)}, nil
	}
	return p.number()
}

// until returns the text up to the next stop and consumes the stop.
func (p *notationParser) until(stop string) (string, error) {
	j := strings.Index(p.s[p.i:], stop)
	if j < 0 {
		return "", p.errorf("want %q", stop)
	}
	tok := p.s[p.i : p.i+j]
	p.i += j + len(stop)
	return strings.TrimSpace(tok), nil
}

func (p *notationParser) number() (any, error) {
	j := p.i
	for j < len(p.s) && strings.IndexByte("+-0123456789.eEinfatyINFATY", p.s[j]) >= 0 {
		j++
	}
	tok := p.s[p.i:j]
	if tok == "" {
		return nil, p.errorf("unknown value")
	}
	p.i = j
	if x, ok := new(big.Int).SetString(tok, 10); ok {
		return normalizeInt(x), nil
	}
	f, err := parseFloat(tok, 64)
	if err != nil {
		return nil, p.errorf("bad number %q", tok)
	}
	return f, nil
}

func parseFloat(tok string, bitSize int) (float64, error) {
	switch strings.ToLower(tok) {
	case "nan":
		return math.NaN(), nil
	case "-nan":
		return math.Copysign(math.NaN(), -1), nil
	}
	return strconv.ParseFloat(tok, bitSize)
}

// quoted reads a string body after its opening quote. Byte strings take
// \xNN as a byte; unicode strings take \uNNNN and \UNNNNNNNN as code points.
func (p *notationParser) quoted(byteString bool) (string, error) {
	var sb strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '"':
			return sb.String(), nil
		case '\\':
			if p.i >= len(p.s) {
				return "", p.errorf("dangling escape")
			}
			e := p.s[p.i]
			p.i++
			digits := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			switch {
			case digits > 0 && byteString && e != 'x':
				return "", p.errorf("\\%c escape in a byte string", e)
			case digits > 0:
				if p.i+digits > len(p.s) {
					return "", p.errorf("short \\%c escape", e)
				}
				u, err := strconv.ParseUint(p.s[p.i:p.i+digits], 16, 32)
				if err != nil {
					return "", p.errorf("bad \\%c escape", e)
				}
				p.i += digits
				if byteString {
					sb.WriteByte(byte(u))
				} else {
					sb.WriteRune(rune(u))
				}
			case e == 'n':
				sb.WriteByte('\n')
			case e == 't':
				sb.WriteByte('\t')
			case e == 'r':
				sb.WriteByte('\r')
			case e == '0':
				sb.WriteByte(0)
			case e == '\\' || e == '"' || e == '\'':
				sb.WriteByte(e)
			default:
				return "", p.errorf("unknown escape \\%c", e)
			}
		default:
			sb.WriteByte(c)
		}
	}
	return "", p.errorf("unterminated string")
}
