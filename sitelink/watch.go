package sitelink

import (
	"github.com/huella-abis/huella"
)

// watchReply is the wire form of a watchlist pull's answer.
type watchReply struct {
	Changes []*wireWatchChange `json:"changes"`
	Error   string             `json:"error,omitempty"`
}

// wireWatchChange is a huella.WatchChange on the wire: the templates,
// which the domain types keep out of JSON, travel beside the entry,
// Templates[i] being that of Entry.Samples[i].
type wireWatchChange struct {
	huella.WatchChange
	Templates []*wireTemplate `json:"templates,omitempty"`
}

type wireTemplate struct {
	huella.Template
	Data []byte `json:"data"`
}

func encodeWatchChanges(changes []*huella.WatchChange) []*wireWatchChange {
	out := make([]*wireWatchChange, len(changes))
	for i, ch := range changes {
		w := &wireWatchChange{WatchChange: *ch}
		if ch.Entry != nil {
			for _, smp := range ch.Entry.Samples {
				var t *wireTemplate
				if smp.Template != nil {
					t = &wireTemplate{Template: *smp.Template, Data: smp.Template.Data}
				}
				w.Templates = append(w.Templates, t)
			}
		}
		out[i] = w
	}
	return out
}

// decodeWatchChanges puts the templates back on the samples; a change
// whose templates do not match its samples is ErrBadUpload.
func decodeWatchChanges(wire []*wireWatchChange) ([]*huella.WatchChange, error) {
	out := make([]*huella.WatchChange, len(wire))
	for i, w := range wire {
		if w == nil {
			return nil, ErrBadUpload
		}
		ch := w.WatchChange
		if ch.Entry != nil {
			if len(w.Templates) != len(ch.Entry.Samples) {
				return nil, ErrBadUpload
			}
			for j, smp := range ch.Entry.Samples {
				if smp == nil {
					return nil, ErrBadUpload
				}
				if t := w.Templates[j]; t != nil {
					tt := t.Template
					tt.Data = t.Data
					smp.Template = &tt
				}
			}
		}
		out[i] = &ch
	}
	return out, nil
}
