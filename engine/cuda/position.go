package cuda

import (
	"encoding/binary"
	"fmt"
)

// Position is a sequence position held in device memory, read there by the
// kernels of ApplyRopeAt, AttentionAt and StoreKV: a CUDA graph of them
// needs no update when the position moves, only Set.
type Position struct {
	// Capacity bounds the position: Set accepts 0 .. Capacity-1, and the
	// kernels that read it are checked against Capacity positions.
	Capacity int
	buf      *Buffer
}

// NewPosition allocates a position of a sequence of capacity positions,
// set to 0.
func (d *Device) NewPosition(capacity int) (*Position, error) {
	if capacity <= 0 || capacity > 1<<30 {
		return nil, fmt.Errorf("cuda: position of a sequence of %d positions", capacity)
	}
	buf, err := d.Alloc(4)
	if err != nil {
		return nil, err
	}
	p := &Position{Capacity: capacity, buf: buf}
	if err := p.Set(0); err != nil {
		return nil, fmt.Errorf("%w (and freeing: %v)", err, buf.Free())
	}
	return p, nil
}

// Set writes pos to the device; it waits for the kernels launched before.
func (p *Position) Set(pos int) error {
	if pos < 0 || pos >= p.Capacity {
		return fmt.Errorf("cuda: position %d outside a sequence of %d", pos, p.Capacity)
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(pos))
	return p.buf.Write(b[:])
}

// Free releases the position's device memory.
func (p *Position) Free() error { return p.buf.Free() }

// check reports why p cannot be read by d's kernels, if it cannot.
func (p *Position) check(d *Device, what string) error {
	if p == nil || p.buf == nil || p.buf.dev != d || p.buf.ptr == 0 {
		return fmt.Errorf("cuda: %s: position is nil, freed or another device's", what)
	}
	return nil
}

// ApplyRopeAt is ApplyRope from the position p holds when the kernel runs.
func (d *Device) ApplyRopeAt(r *Rope, x *Buffer, rows, heads int, p *Position) error {
	return d.start(d.ropeAtLaunch(r, x, rows, heads, p))
}

func (d *Device) ropeAtLaunch(r *Rope, x *Buffer, rows, heads int, p *Position) (launch, error) {
	if err := p.check(d, "rope_at"); err != nil {
		return launch{}, err
	}
	l, err := d.ropeLaunch(r, x, rows, heads, p.Capacity-1) // checks the table, x and the geometry
	if err != nil {
		return launch{}, err
	}
	return newLaunch("rope_at", l.geom, new(args).ptr("x", x.ptr).ptr("freqs", r.freqs.ptr).int("heads", heads).
		int("head_dim", r.HeadDim).int("dims", r.Dims).ptr("pos", p.buf.ptr).int("neox", boolInt(r.Neox)))
}

// AttentionAt is Attention over positions 0 through the one p holds when
// the kernel runs; s.Positions is ignored, the caches must hold
// p.Capacity positions, and the shared memory is sized for them.
func (d *Device) AttentionAt(out, q, k, v *Buffer, s AttentionShape, p *Position) error {
	return d.start(d.attentionAtLaunch(out, q, k, v, s, p))
}

func (d *Device) attentionAtLaunch(out, q, k, v *Buffer, s AttentionShape, p *Position) (launch, error) {
	if err := p.check(d, "attention_at"); err != nil {
		return launch{}, err
	}
	s.Positions = p.Capacity
	l, err := d.attentionLaunch(out, q, k, v, s)
	if err != nil {
		return launch{}, err
	}
	return newLaunch("attention_at", l.geom, new(args).ptr("out", out.ptr).ptr("q", q.ptr).ptr("k", k.ptr).ptr("v", v.ptr).
		int("group", s.Heads/s.KVHeads).int("head_dim", s.HeadDim).int("kv_stride", s.KVStride).
		ptr("pos", p.buf.ptr).f32("scale", s.Scale))
}

// StoreKV copies a new key and value of n floats each into the position p
// holds (when the kernel runs) of caches of p.Capacity positions n floats
// apart.
func (d *Device) StoreKV(kCache, vCache, kNew, vNew *Buffer, n int, p *Position) error {
	return d.start(d.storeKVLaunch(kCache, vCache, kNew, vNew, n, p))
}

func (d *Device) storeKVLaunch(kCache, vCache, kNew, vNew *Buffer, n int, p *Position) (launch, error) {
	if err := p.check(d, "kv_store"); err != nil {
		return launch{}, err
	}
	if err := firstError(d.floats("kv_store key cache", kCache, p.Capacity*n), d.floats("kv_store value cache", vCache, p.Capacity*n),
		d.floats("kv_store key", kNew, n), d.floats("kv_store value", vNew, n)); err != nil {
		return launch{}, err
	}
	g, err := eltGeom("kv_store", n)
	if err != nil {
		return launch{}, err
	}
	return newLaunch("kv_store", g, new(args).ptr("k_cache", kCache.ptr).ptr("v_cache", vCache.ptr).
		ptr("k_new", kNew.ptr).ptr("v_new", vNew.ptr).int("n", n).ptr("pos", p.buf.ptr))
}
