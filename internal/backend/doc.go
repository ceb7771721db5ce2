// Package backend chooses and creates the GoMLX backend that asrkit runs on.
//
// # Specs
//
// A backend is named by a spec:
//
//	auto               XLA CUDA when a CUDA PJRT plugin and an NVIDIA device are
//	                   found, else the pure-Go backend; Info.Reason says why
//	go                 GoMLX's pure-Go backend with asrkit's fixes
//	                   (internal/gomlxfix), configured so that it cannot deadlock
//	go:<options>       the same with explicit simplego options (expert use)
//	xla:cuda           the CUDA PJRT plugin, searched in the standard places
//	xla:<name>         another PJRT plugin by name (e.g. xla:cpu), searched
//	                   likewise (files pjrt_c_api_<name>_plugin.so)
//	xla:/abs/plugin.so a PJRT plugin by absolute path (options may follow a comma)
//
// [Resolve] applies asrkit's precedence: a command-line flag, then the config
// file (train.backend), then the GOMLX_BACKEND environment variable, then
// auto.
//
// # Nothing is downloaded
//
// GoMLX's XLA backend installs missing PJRT plugins from the internet when a
// plugin is requested by name. This package never lets it: linking it turns
// GoMLX's auto-install off (at initialisation, since GoMLX reads
// GOMLX_NO_AUTO_INSTALL only at start-up), and it finds plugin files itself
// and always hands GoMLX an absolute path. The standard places searched for a plugin called NAME are the
// directories of PJRT_PLUGIN_LIBRARY_PATH (when set), ~/.local/lib/go-xla
// (and its nvidia/ subdirectory, where go-xla's installer puts the CUDA
// plugin), /usr/local/lib/go-xla (and nvidia/), the older
// ~/.local/lib/gomlx/pjrt and /usr/local/lib/gomlx/pjrt, and LD_LIBRARY_PATH;
// for CUDA also the plugin of a pip-installed JAX
// (site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so, or cuda12), in
// the site-packages directories of python3 and of $VIRTUAL_ENV.
//
// # CUDA environment
//
// Before loading a CUDA plugin, XLA_FLAGS is given
// --xla_gpu_cuda_data_dir=<dir> (unless it already names one), where dir is
// the CUDA toolkit that came with the plugin (a directory holding
// nvvm/libdevice: site-packages/nvidia/cu13 for pip JAX, the nvidia/cu13
// subdirectory for go-xla's installer, or /usr/local/cuda), and
// GOPJRT_CUDA_CHECKS=0 stops go-xla v0.1.4 from setting that flag to a
// developer's home directory. The dynamic loader reads LD_LIBRARY_PATH only at
// process start, so the CUDA libraries must be found through the plugin's
// RPATH (pip layout) or an LD_LIBRARY_PATH set before the program runs.
//
// # The pure-Go backend
//
// "go" is asrkit's copy of simplego (internal/simplego, with matrix products
// on internal/gemm) created with [GoConfig] ("ops_sequential"): graph nodes
// run one after another on the calling goroutine, matrix products are split
// over the cores on goroutines of their own, and a few other ops (large
// element-wise ones) use the worker pool. GoMLX's default configuration
// runs nodes on the same bounded pool that those nodes then wait on, and
// deadlocks on the first step of a model with several batched matrix
// multiplications side by side (see TestGoBackendCannotDeadlock). With nodes run sequentially no worker ever
// waits for a pool slot while holding one, so the deadlock cannot happen; it
// measured as fast as unlimited parallelism on 2 cores.
package backend
