package dirent

import (
	"github.com/fsmeta/fsmeta/inode"
	"github.com/fsmeta/fsmeta/internal/msgcodec"
	"github.com/vmihailenco/msgpack/v5"
)

// DecodeMsgpack implements msgpack.CustomDecoder field by field, without
// reflection: every lookup decodes entries. Unknown fields are skipped.
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
