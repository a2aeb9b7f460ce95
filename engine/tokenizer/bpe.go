package tokenizer

import (
	"fmt"
	"strings"
)

// BPE runs on symbols: strings that are interned once, when the tokenizer is
// built. Ids below the vocabulary size are the tokens themselves; the
// characters that stand for bytes and the results of merges that are not
// tokens get ids after them. A merge is then a map lookup on a pair of ids.

// mergeRule is what a listed merge of two symbols gives: its rank (its index
// in tokenizer.ggml.merges, lower merges first) and the merged symbol.
type mergeRule struct {
	rank, result int32
}

// bpeModel is the merge table.
type bpeModel struct {
	nTokens int32
	symText []string
	symID   map[string]int32
	rules   map[uint64]mergeRule
	// byteSym is the symbol of each byte's GPT-2 character.
	byteSym [256]int32
	// byteToken is the token whose text is the single byte b, or NoToken.
	byteToken [256]int32
}

func pairKey(left, right int32) uint64 { return uint64(uint32(left))<<32 | uint64(uint32(right)) }

// newBPE builds the merge table. ids maps every token text to its id; the
// model takes it over and adds its other symbols to it.
func newBPE(tokens []string, ids map[string]int32, merges []string, bm *byteMap) (*bpeModel, error) {
	m := &bpeModel{
		nTokens: int32(len(tokens)),
		symText: append(make([]string, 0, len(tokens)+len(merges)/8), tokens...),
		symID:   ids,
		rules:   make(map[uint64]mergeRule, len(merges)),
	}
	for i, rule := range merges {
		// llama.cpp splits at the first space after the first byte.
		cut := strings.IndexByte(rule[min(1, len(rule)):], ' ') + 1
		if cut <= 0 {
			return nil, fmt.Errorf("Merges[%d] %q: no space between the two parts", i, rule)
		}
		left, right := rule[:cut], rule[cut+1:]
		lid, lok := m.symID[left]
		rid, rok := m.symID[right]
		switch {
		case !lok || lid >= m.nTokens:
			return nil, fmt.Errorf("Merges[%d] %q: left part %q is not a token", i, rule, left)
		case !rok || rid >= m.nTokens:
			return nil, fmt.Errorf("Merges[%d] %q: right part %q is not a token", i, rule, right)
		}
		key := pairKey(lid, rid)
		if _, dup := m.rules[key]; dup {
			continue // the first listing wins, as in llama.cpp
		}
		m.rules[key] = mergeRule{rank: int32(i), result: m.intern(left + right)}
	}
	for b := range 256 {
		m.byteSym[b] = m.intern(string(bm.toRune[b]))
		m.byteToken[b] = NoToken
		if id, ok := m.symID[string([]byte{byte(b)})]; ok && id < m.nTokens {
			m.byteToken[b] = id
		}
	}
	return m, nil
}

// intern returns the symbol id of s, adding it if needed.
func (m *bpeModel) intern(s string) int32 {
	if id, ok := m.symID[s]; ok {
		return id
	}
	id := int32(len(m.symText))
	m.symText = append(m.symText, s)
	m.symID[s] = id
	return id
}

// emit appends the tokens of a final symbol: the symbol itself when it is a
// token, otherwise (llama.cpp's fallback) the tokens of those of its bytes
// that are one-byte tokens.
func (m *bpeModel) emit(out []int32, sym int32) []int32 {
	if sym < m.nTokens {
		return append(out, sym)
	}
	text := m.symText[sym]
	for i := 0; i < len(text); i++ {
		if t := m.byteToken[text[i]]; t != NoToken {
			out = append(out, t)
		}
	}
	return out
}

// bpeSym is a symbol of the word being merged, in a doubly linked list;
// id is -1 once it has been merged into its left neighbour.
type bpeSym struct {
	id, prev, next int32
}

// candidate is a merge that was possible when it was queued: the symbols at
// positions left and right, with ids lid and rid, were adjacent, and merging
// them gives the symbol result.
type candidate struct {
	rank, result, left, right, lid, rid int32
}

// before orders the queue: lowest rank first, then leftmost.
func (c candidate) before(d candidate) bool {
	return c.rank < d.rank || (c.rank == d.rank && c.left < d.left)
}

// bpeWork is the scratch space of one Encode call.
type bpeWork struct {
	syms  []bpeSym
	queue []candidate
}

// encodeWord appends the tokens of one word, given as raw bytes.
func (m *bpeModel) encodeWord(w *bpeWork, word []byte, out []int32) []int32 {
	if len(word) == 0 {
		return out
	}
	w.syms = w.syms[:0]
	for i, b := range word {
		w.syms = append(w.syms, bpeSym{id: m.byteSym[b], prev: int32(i - 1), next: int32(i + 1)})
	}
	w.syms[len(w.syms)-1].next = -1
	w.queue = w.queue[:0]
	for i := 1; i < len(w.syms); i++ {
		m.queuePair(w, int32(i-1), int32(i))
	}
	for len(w.queue) > 0 {
		c := w.pop()
		l, r := &w.syms[c.left], &w.syms[c.right]
		if l.next != c.right || l.id != c.lid || r.id != c.rid {
			continue // stale: one of the two has changed since
		}
		l.id = c.result
		l.next = r.next
		r.id = -1
		if r.next >= 0 {
			w.syms[r.next].prev = c.left
		}
		m.queuePair(w, l.prev, c.left)
		m.queuePair(w, c.left, l.next)
	}
	for i := int32(0); i >= 0; i = w.syms[i].next {
		out = m.emit(out, w.syms[i].id)
	}
	return out
}

// queuePair queues the merge of the symbols at positions left and right if
// the merge table has one.
func (m *bpeModel) queuePair(w *bpeWork, left, right int32) {
	if left < 0 || right < 0 {
		return
	}
	lid, rid := w.syms[left].id, w.syms[right].id
	rule, ok := m.rules[pairKey(lid, rid)]
	if !ok {
		return
	}
	w.push(candidate{rank: rule.rank, result: rule.result, left: left, right: right, lid: lid, rid: rid})
}

// push adds c to the binary heap w.queue.
func (w *bpeWork) push(c candidate) {
	q := append(w.queue, c)
	i := len(q) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q[i].before(q[p]) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
	w.queue = q
}

// pop removes and returns the first candidate of the heap.
func (w *bpeWork) pop() candidate {
	q := w.queue
	top := q[0]
	n := len(q) - 1
	q[0] = q[n]
	q = q[:n]
	for i := 0; ; {
		l, r, best := 2*i+1, 2*i+2, i
		if l < n && q[l].before(q[best]) {
			best = l
		}
		if r < n && q[r].before(q[best]) {
			best = r
		}
		if best == i {
			break
		}
		q[i], q[best] = q[best], q[i]
		i = best
	}
	w.queue = q
	return top
}
