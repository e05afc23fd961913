// Package occlusion measures where on a face a recogniser's similarity comes
// from: for a pair of aligned 112×112 faces, it hides one square region of
// one face at a time behind a grey patch and records how much the pair's
// cosine score drops.
//
// # The map
//
// A Grid lays patches of Patch×Patch pixels over the Size×Size face. Along
// each axis the patch's first pixel sits at 0, Stride, 2·Stride, … up to
// Size−Patch; when Size−Patch is not a multiple of Stride a last position
// at Size−Patch is added, so that every pixel is covered (Stride ≤ Patch is
// required). 8×8 patches at stride 4 on 112 pixels give 27 positions per
// axis, 729 cells.
//
// Cell (i, j) of a face's Map (row i counts down, column j across) holds
//
//	drop(i, j) = cos(e(F), e(P)) − cos(e(F with patch (i, j) grey), e(P))
//
// where F is the face the map is drawn on, P its partner in the pair (never
// occluded), and e the model's L2-normalised embedding. The patch's pixels
// are set to the opaque grey (127, 127, 127), which the recogniser's input
// normalisation (p−127)/128 turns into exactly 0 in every channel. A
// positive drop means the region supports the score (the pair looks more
// alike with it); a negative one, that the region holds the score down.
//
// The per-pixel map (Map.Pixels), for overlays, gives each pixel the mean
// drop of every patch that covers it.
//
// # Cost
//
// One embedding per cell per face, plus one of the unoccluded face.
// Occluded embeddings do not depend on the partner, so OccludeFaces
// embeds each face once and Occluded.Map scores it against any partner:
// the figure's three settings (unmasked–unmasked, unmasked–masked,
// masked–masked) need the four faces A, B, masked A and masked B, 4 × 730
// embeddings at 8×8 / stride 4. Any Embedder works (face.Embedder embeds
// every occluded crop whole); NetEmbedder computes the same embeddings
// incrementally, running the network's early layers only around each
// patch, for about 1.6–1.8× less CPU time (docs/occlusion.md).
//
// # Use
//
//	emb, err := occlusion.NewNetEmbedder(name, onnxBytes, nil) // nil: the CPU engine
//	res, err := occlusion.ComputePair(ctx, emb, occlusion.Model{Name: name, Threshold: t}, pair, occlusion.Options{Progress: prog})
//	img, err := occlusion.Figure(pair, []*occlusion.Result{res}, occlusion.FigureOptions{})
//	err = occlusion.WriteJSON(path, occlusion.File{FaceA: a, FaceB: b, Results: []*occlusion.Result{res}})
//
// Drawing for a screen of its own size: Overlay (a face under its map),
// DrawColorBar, and ScaleFor for one scale across models.
package occlusion
