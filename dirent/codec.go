package dirent

import (
	"errors"

	"github.com/fsmeta/fsmeta/inode"
	"github.com/vmihailenco/msgpack/v5"
)

// DecodeMsgpack implements msgpack.CustomDecoder field by field, without
// reflection: every lookup decodes entries. Unknown fields are skipped.
func (e *Entry) DecodeMsgpack(dec *msgpack.Decoder) error {
	l, err := dec.DecodeMapLen()
	if err != nil {
		return err
	}
	if l < 0 {
		return errors.New("record is nil, not a map")
	}
	for i := 0; i < l; i++ {
		k, err := dec.DecodeString()
		if err != nil {
			return err
		}
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
		if err != nil {
			return err
		}
	}
	return nil
}
