package inode

import (
	"github.com/fsmeta/fsmeta/internal/msgcodec"
	"github.com/vmihailenco/msgpack/v5"
)

// AppendEncode appends the msgpack form of n to b: the bytes
// msgpack.Marshal writes for the tagged struct, without reflection. It
// sets n.V to Version.
func AppendEncode(b []byte, n *Inode) []byte {
	n.V = Version
	fields := 8 // v i t m n a mt c
	for _, set := range [...]bool{n.Uid != 0, n.Gid != 0, n.Size != 0, n.Rdev != 0, len(n.Target) != 0, n.Parent != 0, len(n.Name) != 0} {
		if set {
			fields++
		}
	}
	b = msgcodec.AppendMapHeader(b, fields)
	b = msgcodec.AppendUint8(msgcodec.AppendKey(b, "v"), n.V)
	b = msgcodec.AppendUint64(msgcodec.AppendKey(b, "i"), n.Ino)
	b = msgcodec.AppendUint8(msgcodec.AppendKey(b, "t"), uint8(n.Type))
	b = msgcodec.AppendUint32(msgcodec.AppendKey(b, "m"), n.Mode)
	if n.Uid != 0 {
		b = msgcodec.AppendUint32(msgcodec.AppendKey(b, "u"), n.Uid)
	}
	if n.Gid != 0 {
		b = msgcodec.AppendUint32(msgcodec.AppendKey(b, "g"), n.Gid)
	}
	b = msgcodec.AppendUint32(msgcodec.AppendKey(b, "n"), n.Nlink)
	if n.Size != 0 {
		b = msgcodec.AppendUint64(msgcodec.AppendKey(b, "s"), n.Size)
	}
	b = msgcodec.AppendInt64(msgcodec.AppendKey(b, "a"), n.Atime)
	b = msgcodec.AppendInt64(msgcodec.AppendKey(b, "mt"), n.Mtime)
	b = msgcodec.AppendInt64(msgcodec.AppendKey(b, "c"), n.Ctime)
	if n.Rdev != 0 {
		b = msgcodec.AppendUint32(msgcodec.AppendKey(b, "r"), n.Rdev)
	}
	if len(n.Target) != 0 {
		b = msgcodec.AppendBin(msgcodec.AppendKey(b, "l"), n.Target)
	}
	if n.Parent != 0 {
		b = msgcodec.AppendUint64(msgcodec.AppendKey(b, "p"), n.Parent)
	}
	if len(n.Name) != 0 {
		b = msgcodec.AppendBin(msgcodec.AppendKey(b, "nm"), n.Name)
	}
	return b
}

// encodedSize is the size of n's msgpack form with every field present:
// the header, 32 bytes of keys and 83 of fixed-width values, then the
// byte fields.
func encodedSize(n *Inode) int {
	return 1 + 32 + 83 + msgcodec.BinSize(n.Target) + msgcodec.BinSize(n.Name)
}

// decodeFast decodes the form AppendEncode writes (any msgpack integer
// width accepted) into n. It returns false on anything else, and then n
// is to be discarded and the record decoded by DecodeMsgpack.
func decodeFast(b []byte, n *Inode) bool {
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
			n.V, ok = r.Uint8()
		case "i":
			n.Ino, ok = r.Uint64()
		case "t":
			var t uint8
			t, ok = r.Uint8()
			n.Type = Type(t)
		case "m":
			n.Mode, ok = r.Uint32()
		case "u":
			n.Uid, ok = r.Uint32()
		case "g":
			n.Gid, ok = r.Uint32()
		case "n":
			n.Nlink, ok = r.Uint32()
		case "s":
			n.Size, ok = r.Uint64()
		case "a":
			n.Atime, ok = r.Int64()
		case "mt":
			n.Mtime, ok = r.Int64()
		case "c":
			n.Ctime, ok = r.Int64()
		case "r":
			n.Rdev, ok = r.Uint32()
		case "l":
			n.Target, ok = r.Bytes()
		case "p":
			n.Parent, ok = r.Uint64()
		case "nm":
			n.Name, ok = r.Bytes()
		default:
			return false // an unknown field: the general decoder skips it
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
func (n *Inode) DecodeMsgpack(dec *msgpack.Decoder) error {
	return msgcodec.DecodeMap(dec, func(k string) (err error) {
		var t uint8
		switch k {
		case "v":
			n.V, err = dec.DecodeUint8()
		case "i":
			n.Ino, err = dec.DecodeUint64()
		case "t":
			t, err = dec.DecodeUint8()
			n.Type = Type(t)
		case "m":
			n.Mode, err = dec.DecodeUint32()
		case "u":
			n.Uid, err = dec.DecodeUint32()
		case "g":
			n.Gid, err = dec.DecodeUint32()
		case "n":
			n.Nlink, err = dec.DecodeUint32()
		case "s":
			n.Size, err = dec.DecodeUint64()
		case "a":
			n.Atime, err = dec.DecodeInt64()
		case "mt":
			n.Mtime, err = dec.DecodeInt64()
		case "c":
			n.Ctime, err = dec.DecodeInt64()
		case "r":
			n.Rdev, err = dec.DecodeUint32()
		case "l":
			n.Target, err = dec.DecodeBytes()
		case "p":
			n.Parent, err = dec.DecodeUint64()
		case "nm":
			n.Name, err = dec.DecodeBytes()
		default:
			err = dec.Skip()
		}
		return err
	})
}
