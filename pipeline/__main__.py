from pipeline.cli import main_process

main_process()
