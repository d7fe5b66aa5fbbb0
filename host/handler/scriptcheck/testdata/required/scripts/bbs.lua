-- The entry function lives in a module; it uses the built-in ui.
require 'board'
require 'ui'
