// Package face turns a photo into a face box, 68 landmarks, a 5-point
// ArcFace-aligned 112×112 crop and an L2-normalised embedding. It runs the
// three faceplugin ONNX models through the small Runner interface (package
// model's *Net satisfies it; tests use fakes), and does every pre- and
// post-processing step itself.
//
// The steps reproduce the npm package faceplugin-face-recognition-js 0.0.1
// (lib/fr_detect.js, fr_landmark.js, fr_feature.js), as run by the golden
// reference (OpenCV 4.6, shared/golden), with these deliberate differences:
//
//   - NMS keeps the highest-scoring box of each cluster. The JS sorts the
//     candidates by bottom edge (y2) before its greedy loop, which keeps the
//     top-most box instead; the golden boxes follow score order (checked with
//     OpenCV: in y2 order 27 of 29 golden boxes move, by up to 13.7 px).
//   - The face is chosen nearest the image centre among faces at least half
//     as tall as the tallest (the JS's getBestFace never updates its running
//     maximum and so returns the last face).
//   - Alignment is a 5-point similarity (Umeyama) instead of the JS's 3-point
//     affine, which costs about 10 points of LFW accuracy.
//
// Where the reference relies on OpenCV, we reproduce OpenCV's integer
// arithmetic (resize with INTER_LINEAR, cvtColor to grey, warpAffine), so
// that on the same decoded pixels our model inputs are bit-identical.
package face
