package inode

import (
	"github.com/fsmeta/fsmeta/internal/msgcodec"
	"github.com/vmihailenco/msgpack/v5"
)

// DecodeMsgpack implements msgpack.CustomDecoder field by field, without
// reflection: every lookup decodes records. Unknown fields are skipped.
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
