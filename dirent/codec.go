package dirent

import (
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/internal/msgcodec"
	"github.com/vmihailenco/msgpack/v5"
)

// encodedSize is the size of an entry's msgpack form with every field:
// the header, 8 bytes of keys and 22 of values.
const encodedSize = 1 + 8 + 22

// AppendEncode appends the msgpack form of e to b: the bytes
// msgpack.Marshal writes for the tagged struct, without reflection. It
// sets e.V to Version.
func AppendEncode(b []byte, e *Entry) []byte {
	e.V = Version
	fields := 3
	if e.Request != 0 {
		fields++
	}
	b = msgcodec.AppendMapHeader(b, fields)
	b = msgcodec.AppendUint8(msgcodec.AppendKey(b, "v"), e.V)
	b = msgcodec.AppendUint64(msgcodec.AppendKey(b, "i"), e.Ino)
	b = msgcodec.AppendUint8(msgcodec.AppendKey(b, "t"), uint8(e.Type))
	if e.Request != 0 {
		b = msgcodec.AppendUint64(msgcodec.AppendKey(b, "q"), e.Request)
	}
	return b
}

// decodeFast decodes the form AppendEncode writes (any msgpack integer
// width accepted) into e. It returns false on anything else, and then e
// is to be discarded and the record decoded by DecodeMsgpack.
func decodeFast(b []byte, e *Entry) bool {
	r := msgcodec.NewReader(b)
	l, ok := r.MapLen()
	if !ok {
		return false
	}
	for ; l > 0; l-- {
		k, ok := r.Key()
		if !ok {
			return false
		}
		switch string(k) {
		case "v":
			e.V, ok = r.Uint8()
		case "i":
			e.Ino, ok = r.Uint64()
		case "t":
			var t uint8
			t, ok = r.Uint8()
			e.Type = inode.Type(t)
		case "q":
			e.Request, ok = r.Uint64()
		default:
			return false
		}
		if !ok {
			return false
		}
	}
	return r.Done()
}

// DecodeMsgpack implements msgpack.CustomDecoder field by field, without
// reflection. Unknown fields are skipped. Decode uses it for records that
// are not in the form AppendEncode writes.
func (e *Entry) DecodeMsgpack(dec *msgpack.Decoder) error {
	return msgcodec.DecodeMap(dec, func(k string) (err error) {
		var t uint8
		switch k {
		case "v":
			e.V, err = dec.DecodeUint8()
		case "i":
			e.Ino, err = dec.DecodeUint64()
		case "t":
			t, err = dec.DecodeUint8()
			e.Type = inode.Type(t)
		case "q":
			e.Request, err = dec.DecodeUint64()
		default:
			err = dec.Skip()
		}
		return err
	})
}
