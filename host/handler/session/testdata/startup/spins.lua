-- A main script that never finishes loading.
while true do end
