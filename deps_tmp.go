//go:build tools
package main

import (
	_ "fyne.io/fyne/v2/app"
	_ "github.com/disintegration/imaging"
	_ "github.com/owulveryck/onnx-go"
	_ "github.com/sqweek/dialog"
	_ "gorgonia.org/gorgonia"
	_ "gorgonia.org/tensor"
	_ "gonum.org/v1/plot"
)
