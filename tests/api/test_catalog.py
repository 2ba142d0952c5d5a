def test_providers_lists_the_offline_default(app, alice):
    providers = app.get("/tts/providers", headers=alice).json()
    piper = next(p for p in providers if p["name"] == "piper")
    engine = piper.pop("engine")
    assert piper == {
        "name": "piper",
        "type": "piper",
        "default_voice": "en_US-joe-medium",
        "model": None,
    }
    # the catalogue cannot be read here: the bundled voice alone, on this machine
    assert engine["installed"] is True and engine["languages"] == ["en_US"]
    assert engine["voice_count"] == 1


def test_voices_of_piper_include_the_bundled_voice(app, alice):
    voices = app.get("/tts/voices/piper", headers=alice).json()
    assert {
        "id": "en_US-joe-medium",
        "name": "Joe",
        "language": "en_US",
        "description": None,
        "language_name": "English",
        "quality": "medium",
        "speakers": [],
        "installed": True,
        "gender": None,
    } in voices


def test_voices_of_an_unknown_provider_is_404_naming_the_known_ones(app, alice):
    response = app.get("/tts/voices/nope", headers=alice)
    assert response.status_code == 404
    assert "piper" in response.json()["detail"]
