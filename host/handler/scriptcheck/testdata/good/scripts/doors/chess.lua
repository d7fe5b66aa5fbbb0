-- A door in a subfolder of scripts, naming a screen in a subfolder.
function play_chess(conn, req)
    return ui.prompt(conn, req, 'doors/chess')
end
