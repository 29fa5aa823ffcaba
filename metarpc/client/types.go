package client

import "github.com/fsmeta/fsmeta/inode"

func typeOf(t uint32) inode.Type { return inode.Type(t) }
